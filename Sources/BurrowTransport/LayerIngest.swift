import BurrowArchive
import BurrowOCI
import BurrowStore
import BurrowSystem
import Glibc

/// Unpacks one layer blob into a staging directory, checks its digests, and
/// moves it into the store whole. Runs inside the user namespace.
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

    /// Returns the layer's diff id. The layer is in the store when this
    /// returns; a mismatch leaves nothing behind.
    func ingest(source: LayerStream.Source, expected: Expected, displayName: String) throws -> Digest {
        if let diffID = expected.diffID, store.layerExists(diffID) {
            progress.finished(displayName, note: "Already exists")
            return diffID
        }
        let staging = try store.makeStaging("layer")
        defer { staging.discard() }
        let tree = "\(staging.path)/root"
        try FileSystem.makeDirectory(tree, mode: 0o755)

        let stream = try LayerStream(source: source, displayName: "layer \(displayName)")
        progress.started(displayName, total: expected.blobSize)
        stream.onProgress = { [progress] done in progress.advanced(displayName, done: done) }
        let unpacker = try LayerUnpacker(root: tree, whiteouts: whiteouts, ownership: ownership)
        let statistics: LayerUnpacker.Statistics
        do {
            statistics = try unpacker.unpack(stream)
        } catch let error as LayerUnpacker.UnmappedOwner {
            throw BurrowError.unsupported("\(error): give your user a subordinate range of at least 65536 ids in /etc/subuid and /etc/subgid")
        }
        let digests = try stream.finish()

        if let size = expected.blobSize, size != digests.blobSize {
            throw BurrowError.invalidArgument("layer \(displayName) has \(digests.blobSize) bytes, its descriptor says \(size): the archive is damaged")
        }
        if let digest = expected.blobDigest, digest.description != digests.blobDigest {
            throw BurrowError.invalidArgument("layer \(displayName) has digest \(digests.blobDigest), expected \(digest): the archive is damaged")
        }
        guard let diffID = Digest(digests.diffID) else { throw BurrowError.engine("bad diff id \(digests.diffID)") }
        if let expectedDiff = expected.diffID, expectedDiff != diffID {
            throw BurrowError.invalidArgument("layer \(displayName) unpacks to \(diffID), the image configuration expects \(expectedDiff): the archive is damaged")
        }
        for warning in statistics.warnings { progress.warning(warning) }

        let record = LayerRecord(diffID: diffID, size: statistics.bytes, entries: statistics.entries,
                                 whiteouts: whiteouts.rawValue, created: Timestamp.now())
        try JSONFiles.write(record, to: "\(staging.path)/layer.json", durable: true)
        let lock = try store.lock(.exclusive)
        _ = try store.commitLayer(from: staging.path, diffID: diffID)
        _ = lock
        progress.finished(displayName, note: "Loaded")
        return diffID
    }
}
