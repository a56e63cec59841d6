import BurrowSystem
import CArchive
import Glibc

/// Makes an outer archive readable in place: a plain tar file is used as it
/// is; a compressed one, or one arriving on a pipe, is first written out,
/// decompressed, to a scratch file.
public enum Spool {
    public enum Compression: String, Sendable { case none, gzip, zstd, xz, bzip2 }

    public static func compression(of header: [UInt8]) -> Compression {
        if header.starts(with: [0x1f, 0x8b]) { return .gzip }
        if header.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        if header.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .xz }
        if header.starts(with: [0x42, 0x5a, 0x68]) { return .bzip2 }
        return .none
    }

    /// A descriptor of an uncompressed, seekable copy of `fd`'s contents:
    /// `fd` itself when it already is one, else a file at `scratch`.
    public static func seekableTar(_ fd: Int32, displayName: String, scratch: String, progress: ((Int64) -> Void)? = nil) throws -> Int32 {
        var st = stat()
        let isRegular = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        if isRegular {
            var header = [UInt8](repeating: 0, count: 8)
            let n = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 8, 0) }
            if n >= 0 && compression(of: Array(header.prefix(max(0, n)))) == .none { return fd }
        }
        let out = try syscall("create", scratch) { CBurrowSysOpen.create(scratch) }
        let archive = archive_read_new()
        defer { archive_read_free(archive) }
        archive_read_support_filter_gzip(archive)
        archive_read_support_filter_zstd(archive)
        archive_read_support_filter_xz(archive)
        archive_read_support_filter_bzip2(archive)
        archive_read_support_format_raw(archive)
        archive_read_support_format_empty(archive)
        if isRegular { lseek(fd, 0, SEEK_SET) }
        guard archive_read_open_fd(archive, fd, 1 << 20) == ARCHIVE_OK else {
            close(out)
            throw ArchiveError("\(displayName) cannot be read: \(String(cString: archive_error_string(archive)))")
        }
        var entry: OpaquePointer? = nil
        let rc = archive_read_next_header(archive, &entry)
        if rc == ARCHIVE_EOF {
            close(out)
            throw ArchiveError("\(displayName) is empty: expected a docker-archive or oci-archive tar file")
        }
        guard rc == ARCHIVE_OK else {
            close(out)
            throw ArchiveError("\(displayName) cannot be decompressed: \(String(cString: archive_error_string(archive)))")
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = archive_read_data(archive, buffer, 1 << 20)
            if n < 0 {
                close(out)
                throw ArchiveError("\(displayName) is truncated or corrupt: \(String(cString: archive_error_string(archive)))")
            }
            if n == 0 { break }
            var done = 0
            while done < n {
                let w = write(out, buffer + done, n - done)
                if w < 0 {
                    if errno == EINTR { continue }
                    let error = errno
                    close(out)
                    throw SystemError("write", path: scratch, errno: error)
                }
                done += w
            }
            total += Int64(n)
            progress?(total)
        }
        return out
    }
}

enum CBurrowSysOpen {
    static func create(_ path: String) -> Int32 {
        open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    }
}
