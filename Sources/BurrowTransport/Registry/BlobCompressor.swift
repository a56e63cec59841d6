import BurrowOCI
import BurrowStore
import BurrowSystem
import CArchive
import FoundationEssentials
import Glibc

/// A plain tar layer (from a build step or a docker-archive) is pushed
/// gzip-compressed, as Docker pushes: compressed once, on its first push,
/// and kept beside the plain blob (`blob.gz`) so that later pushes send the
/// same bytes under the same digest.
enum BlobCompressor {
    static func gzipped(store: Store, diffID: Digest, plain: LayerBlob) throws -> (LayerBlob, String) {
        let directory = store.layout.layer(diffID)
        let path = "\(directory)/blob.gz"
        if let bytes = try? FileSystem.readFileIfPresent("\(path).json"),
           let kept = try? JSONDecoder().decode(LayerBlob.self, from: Data(bytes)), FileSystem.exists(path) {
            return (kept, path)
        }
        let temporary = "\(path).\(getpid()).\(Hex.random(bytes: 4))"
        defer { unlink(temporary) }
        let output = try syscall("open", temporary) { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        let hasher = SHA256Hasher()
        let writer = GzipWriter(fd: output, hasher: hasher)
        do {
            try writer.compress(file: store.layerBlobPath(diffID), size: plain.size)
            try syscall("fsync", temporary) { fsync(output) }
            close(output)
        } catch {
            close(output)
            throw error
        }
        guard let digest = Digest(hasher.finish()) else { throw BurrowError.engine("cannot hash the compressed layer \(diffID.short)") }
        let blob = LayerBlob(digest: digest, size: hasher.byteCount, mediaType: MediaType.ociLayerGzip, source: nil)
        try FileSystem.rename(temporary, to: path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically("\(path).json", Array(try encoder.encode(blob)), mode: 0o644, durable: true)
        return (blob, path)
    }
}

/// gzip over libarchive's raw format, without a timestamp, so the same
/// input gives the same bytes.
private final class GzipWriter {
    let fd: Int32
    let hasher: SHA256Hasher

    init(fd: Int32, hasher: SHA256Hasher) {
        self.fd = fd
        self.hasher = hasher
    }

    func compress(file: String, size: Int64) throws {
        guard let archive = archive_write_new() else { throw BurrowError.engine("cannot set up gzip") }
        defer { archive_write_free(archive) }
        archive_write_set_format_raw(archive)
        archive_write_add_filter_gzip(archive)
        archive_write_set_filter_option(archive, "gzip", "timestamp", nil)
        archive_write_set_bytes_per_block(archive, 0)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let rc = archive_write_open(archive, context, nil, { _, context, buffer, length in
            let writer = Unmanaged<GzipWriter>.fromOpaque(context!).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
            writer.hasher.update(bytes)
            var offset = 0
            while offset < length {
                let n = write(writer.fd, buffer! + offset, length - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return -1 }
                offset += n
            }
            return length
        }, nil)
        guard rc == ARCHIVE_OK else { throw BurrowError.engine("cannot start gzip: \(String(cString: archive_error_string(archive)))") }
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_filetype(entry, 0o100000)
        archive_entry_set_size(entry, size)
        archive_entry_copy_pathname(entry, "layer.tar")
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw BurrowError.engine("cannot compress the layer: \(String(cString: archive_error_string(archive)))")
        }
        let input = try syscall("open", file) { open(file, O_RDONLY | O_CLOEXEC) }
        defer { close(input) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { raw in try syscall("read", file) { read(input, raw.baseAddress, raw.count) } }
            if n == 0 { break }
            let written = buffer.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, n) }
            guard written == n else { throw BurrowError.engine("cannot compress the layer: \(String(cString: archive_error_string(archive)))") }
        }
        guard archive_write_close(archive) == ARCHIVE_OK else {
            throw BurrowError.engine("cannot finish compressing the layer: \(String(cString: archive_error_string(archive)))")
        }
    }
}
