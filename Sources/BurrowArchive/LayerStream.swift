import BurrowSystem
import CArchive
import Glibc

/// Reads a layer blob once: decompresses it (gzip, zstd, xz, bzip2 or none,
/// detected from the bytes), walks its tar members, and hashes both the blob
/// as stored and the tar it holds, so the digest and the diff id are checked
/// in the same pass that unpacks it.
public final class LayerStream {
    public enum Source {
        /// `length` bytes of a file from `offset`; nil length reads to the end.
        case range(fd: Int32, offset: Int64, length: Int64?)
        /// A pipe or terminal, read once.
        case stream(fd: Int32)
    }

    public struct Digests: Sendable {
        public let blobDigest: String
        public let blobSize: Int64
        public let diffID: String
        public let tarSize: Int64
    }

    private let source: Source
    private let displayName: String
    private var consumed: Int64 = 0
    private let blobHasher = SHA256Hasher()
    private let tarHasher = SHA256Hasher()
    private var sourceBuffer: UnsafeMutableRawPointer
    private var tarBuffer: UnsafeMutableRawPointer
    private static let bufferSize = 1 << 20
    private var decompressor: OpaquePointer
    private var tar: OpaquePointer
    private var failure: String? = nil
    private var finished = false
    /// Called with the blob bytes read so far, for a progress bar.
    public var onProgress: ((Int64) -> Void)? = nil

    public init(source: Source, displayName: String) throws {
        self.source = source
        self.displayName = displayName
        sourceBuffer = UnsafeMutableRawPointer.allocate(byteCount: LayerStream.bufferSize, alignment: 16)
        tarBuffer = UnsafeMutableRawPointer.allocate(byteCount: LayerStream.bufferSize, alignment: 16)
        decompressor = archive_read_new()
        tar = archive_read_new()
        archive_read_support_filter_gzip(decompressor)
        archive_read_support_filter_zstd(decompressor)
        archive_read_support_filter_xz(decompressor)
        archive_read_support_filter_bzip2(decompressor)
        archive_read_support_format_raw(decompressor)
        archive_read_support_format_empty(decompressor)
        archive_read_support_format_tar(tar)
        archive_read_support_format_empty(tar)

        let context = Unmanaged.passUnretained(self).toOpaque()
        guard archive_read_open(decompressor, context, nil, { _, context, buffer in
            let stream = Unmanaged<LayerStream>.fromOpaque(context!).takeUnretainedValue()
            return stream.readSource(buffer!)
        }, nil) == ARCHIVE_OK else {
            throw ArchiveError("\(displayName): \(LayerStream.message(decompressor))")
        }
        var rawEntry: OpaquePointer? = nil
        let header = archive_read_next_header(decompressor, &rawEntry)
        if header == ARCHIVE_EOF { throw ArchiveError("\(displayName) is empty: expected a tar archive") }
        if header != ARCHIVE_OK {
            throw ArchiveError("\(displayName) cannot be decompressed: \(LayerStream.message(decompressor))")
        }
        guard archive_read_open(tar, context, nil, { _, context, buffer in
            let stream = Unmanaged<LayerStream>.fromOpaque(context!).takeUnretainedValue()
            return stream.readDecompressed(buffer!)
        }, nil) == ARCHIVE_OK else {
            throw ArchiveError("\(displayName) is not a tar archive: \(failure ?? LayerStream.message(tar))")
        }
    }

    deinit {
        archive_read_free(tar)
        archive_read_free(decompressor)
        sourceBuffer.deallocate()
        tarBuffer.deallocate()
    }

    private static func message(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unreadable data"
    }

    private func readSource(_ buffer: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        var want = LayerStream.bufferSize
        var n: Int
        switch source {
        case .range(let fd, let offset, let length):
            if let length { want = Int(min(Int64(want), length - consumed)) }
            if want <= 0 { return 0 }
            n = Glibc.pread(fd, sourceBuffer, want, off_t(offset + consumed))
        case .stream(let fd):
            repeat { n = Glibc.read(fd, sourceBuffer, want) } while n < 0 && errno == EINTR
        }
        if n < 0 {
            failure = "read: \(String(cString: strerror(errno)))"
            return -1
        }
        consumed += Int64(n)
        onProgress?(consumed)
        blobHasher.update(UnsafeRawBufferPointer(start: sourceBuffer, count: n))
        buffer.pointee = UnsafeRawPointer(sourceBuffer)
        return n
    }

    private func readDecompressed(_ buffer: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        let n = archive_read_data(decompressor, tarBuffer, LayerStream.bufferSize)
        if n < 0 {
            failure = failure ?? LayerStream.message(decompressor)
            return -1
        }
        tarHasher.update(UnsafeRawBufferPointer(start: tarBuffer, count: n))
        buffer.pointee = UnsafeRawPointer(tarBuffer)
        return n
    }

    private func error(_ what: String) -> ArchiveError {
        let reason = failure ?? LayerStream.message(tar)
        return ArchiveError("\(displayName) \(what): \(reason)")
    }

    /// The next member, nil at the end of the tar.
    public func next() throws -> LayerEntry? {
        var entry: OpaquePointer? = nil
        let rc = archive_read_next_header(tar, &entry)
        switch rc {
        case ARCHIVE_EOF: return nil
        case ARCHIVE_OK, ARCHIVE_WARN: return LayerEntry(entry!)
        default: throw error(consumed == 0 ? "is not a tar archive" : "is truncated or corrupt")
        }
    }

    /// The current member's data, block by block, with each block's offset
    /// in the file (sparse files skip holes).
    public func readData(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws {
        var block: UnsafeRawPointer? = nil
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let rc = archive_read_data_block(tar, &block, &size, &offset)
            if rc == ARCHIVE_EOF { return }
            if rc != ARCHIVE_OK && rc != ARCHIVE_WARN { throw error("is truncated or corrupt") }
            try body(UnsafeRawBufferPointer(start: block, count: size), offset)
        }
    }

    /// Reads whatever follows the tar's end (padding, trailing blocks) so the
    /// digests cover every byte, and returns them.
    public func finish() throws -> Digests {
        precondition(!finished)
        finished = true
        while true {
            let n = archive_read_data(decompressor, tarBuffer, LayerStream.bufferSize)
            if n < 0 { throw ArchiveError("\(displayName) is truncated or corrupt: \(failure ?? LayerStream.message(decompressor))") }
            if n == 0 { break }
            tarHasher.update(UnsafeRawBufferPointer(start: tarBuffer, count: n))
        }
        var ignored: UnsafeRawPointer? = nil
        while true {
            let n = readSource(&ignored)
            if n < 0 { throw ArchiveError("\(displayName): \(failure ?? "read error")") }
            if n == 0 { break }
        }
        return Digests(blobDigest: blobHasher.finish(), blobSize: consumed, diffID: tarHasher.finish(), tarSize: tarHasher.byteCount)
    }
}
