import BurrowArchive
import BurrowOCI
import BurrowStore
import BurrowSystem
import Glibc

/// A layer unpacked into a staging directory and checked, waiting to be
/// moved into the store together with the image that names it.
final class StagedLayer {
    let diffID: Digest
    /// nil when the store already held the layer.
    let staging: StagingDirectory?

    init(diffID: Digest, staging: StagingDirectory?) {
        self.diffID = diffID
        self.staging = staging
    }

    deinit { staging?.discard() }
}

/// Unpacks one layer blob into a staging directory and checks its digests.
/// Nothing enters the store here: ImageRegistrar commits the staged layers
/// and the image in one step, so a load that fails halfway leaves nothing.
/// Runs inside the user namespace.
struct LayerIngest {
    let store: Store
    let ownership: OwnershipPolicy
    let whiteouts: WhiteoutFormat
    let progress: LoadProgress

    struct Expected {
        var blobDigest: Digest?
        var blobSize: Int64?
        var diffID: Digest?
    }

    /// `blobFile`, when given, is the file `source` reads: it is moved into
    /// the layer rather than copied.
    /// `streamName` is how an unreadable archive is named: a layer of an
    /// image by default, the file itself for import.
    func ingest(source: LayerStream.Source, expected: Expected, displayName: String, streamName: String? = nil, blobFile: String? = nil,
                blobSource: String? = nil) throws -> StagedLayer {
        if let diffID = expected.diffID, store.layerExists(diffID) {
            // The content is known; the blob still has to be the one its descriptor names.
            if case .range(let fd, let offset, let length) = source, expected.blobDigest != nil || expected.blobSize != nil {
                let (digest, size) = try hash(fd: fd, offset: offset, length: length)
                try check(digest: digest, size: size, expected: expected, displayName: displayName)
            }
            progress.finished(displayName, note: "Already exists")
            return StagedLayer(diffID: diffID, staging: nil)
        }
        let staging = try store.makeStaging("layer")
        var keep = false
        defer { if !keep { staging.discard() } }
        let tree = "\(staging.path)/root"
        try FileSystem.makeDirectory(tree, mode: 0o755)

        let stream = try LayerStream(source: source, displayName: streamName ?? "layer \(displayName)")
        progress.started(displayName, total: expected.blobSize)
        stream.onProgress = { [progress] done in progress.advanced(displayName, done: done) }
        let unpacker = try LayerUnpacker(root: tree, whiteouts: whiteouts, ownership: ownership)
        let statistics: LayerUnpacker.Statistics
        do {
            statistics = try unpacker.unpack(stream)
        } catch let error as LayerUnpacker.UnmappedOwner {
            throw BurrowError.unsupported(ownership.isSingleID || error.uid < 65536 && error.gid < 65536
                ? "\(error): give your user a subordinate range of at least 65536 ids in /etc/subuid and /etc/subgid"
                : "\(error): give your user a range that reaches \(max(error.uid, error.gid)) in /etc/subuid and /etc/subgid")
        }
        let digests = try stream.finish()
        try check(digest: digests.blobDigest, size: digests.blobSize, expected: expected, displayName: displayName)
        guard let diffID = Digest(digests.diffID) else { throw BurrowError.engine("bad diff id \(digests.diffID)") }
        if let expectedDiff = expected.diffID, expectedDiff != diffID {
            throw BurrowError.invalidArgument("layer \(displayName) unpacks to \(diffID), the image configuration expects \(expectedDiff): the archive is damaged")
        }
        for warning in statistics.warnings { progress.warning(warning) }

        if case .range(let fd, let offset, _) = source, let blobDigest = Digest(digests.blobDigest) {
            try keepBlob(fd: fd, offset: offset, size: digests.blobSize, digest: blobDigest, file: blobFile, source: blobSource, in: staging.path)
        }

        let record = LayerRecord(diffID: diffID, size: statistics.bytes, entries: statistics.entries,
                                 whiteouts: whiteouts.rawValue, created: Timestamp.now())
        try JSONFiles.write(record, to: "\(staging.path)/layer.json", durable: true)
        progress.finished(displayName, note: "Unpacked")
        keep = true
        return StagedLayer(diffID: diffID, staging: staging)
    }

    /// Keeps the blob beside the tree for push and save (see LayerBlob).
    private func keepBlob(fd: Int32, offset: Int64, size: Int64, digest: Digest, file: String?, source: String?, in directory: String) throws {
        var magic = [UInt8](repeating: 0, count: 8)
        let n = magic.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 8, off_t(offset)) }
        guard n > 0, let mediaType = LayerBlob.mediaType(magic: Array(magic.prefix(n))) else { return }
        let target = "\(directory)/blob"
        if let file, offset == 0 {
            try FileSystem.rename(file, to: target)
        } else {
            let out = try FileDescriptor.open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o644)
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var position = offset
            while position < offset + size {
                let want = Int(min(Int64(buffer.count), offset + size - position))
                let got = try buffer.withUnsafeMutableBytes { raw in try syscall("read") { pread(fd, raw.baseAddress, want, off_t(position)) } }
                if got == 0 { throw BurrowError.engine("the layer blob ended early while it was kept") }
                try buffer.withUnsafeBytes { try out.writeAll(UnsafeRawBufferPointer(rebasing: $0[0..<got]), path: target) }
                position += Int64(got)
            }
            try out.sync(path: target)
        }
        try Store.writeLayerBlobRecord(LayerBlob(digest: digest, size: size, mediaType: mediaType, source: source), in: directory)
    }

    private func check(digest: String, size: Int64, expected: Expected, displayName: String) throws {
        if let expectedSize = expected.blobSize, expectedSize != size {
            throw BurrowError.invalidArgument("layer \(displayName) has \(size) bytes, its descriptor says \(expectedSize): the archive is damaged")
        }
        if let expectedDigest = expected.blobDigest, expectedDigest.description != digest {
            throw BurrowError.invalidArgument("layer \(displayName) has digest \(digest), expected \(expectedDigest): the archive is damaged")
        }
    }

    private func hash(fd: Int32, offset: Int64, length: Int64?) throws -> (String, Int64) {
        let hasher = SHA256Hasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var position = offset
        while true {
            var want = buffer.count
            if let length { want = Int(min(Int64(want), offset + length - position)) }
            if want <= 0 { break }
            let n = try buffer.withUnsafeMutableBytes { raw in try syscall("read") { pread(fd, raw.baseAddress, want, off_t(position)) } }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            position += Int64(n)
        }
        return (hasher.finish(), hasher.byteCount)
    }
}
