import BurrowArchive
import BurrowSystem
import CArchive
import Glibc

/// Writes entries as a POSIX tar archive (pax where a name, an owner or an
/// extended attribute needs it), as `docker cp CONTAINER:PATH -` does:
/// owners are the ids the container sees, names are relative.
public final class TarWriter: CopyDestination {
    private let archive: OpaquePointer
    private let header: OpaquePointer
    private let identities: CopyIdentities
    private let describe: (MemberPath) -> String
    public private(set) var warnings: [String] = []

    public init(fd: Int32, identities: CopyIdentities, describe: @escaping (MemberPath) -> String) throws {
        archive = archive_write_new()
        header = archive_entry_new()
        self.identities = identities
        self.describe = describe
        archive_write_set_format_pax_restricted(archive)
        guard archive_write_open_fd(archive, fd) == ARCHIVE_OK else {
            throw BurrowError.engine("cannot write a tar archive: \(message)")
        }
    }

    deinit {
        archive_entry_free(header)
        archive_write_free(archive)
    }

    private var message: String { archive_error_string(archive).map { String(cString: $0) } ?? "unknown error" }

    public func write(_ entry: CopyEntry, from source: CopySource) throws {
        archive_entry_clear(header)
        var name = entry.path.bytes
        if entry.kind == .directory { name.append(47) }
        name.withCName { archive_entry_copy_pathname(header, $0) }
        let owner = identities.toContainer(uid: entry.uid, gid: entry.gid)
        archive_entry_set_uid(header, Int64(owner.uid))
        archive_entry_set_gid(header, Int64(owner.gid))
        archive_entry_set_perm(header, mode_t(entry.mode))
        archive_entry_set_mtime(header, time_t(entry.modified.seconds), entry.modified.nanoseconds)
        switch entry.kind {
        case .regular:
            archive_entry_set_filetype(header, FileType.reg)
            archive_entry_set_size(header, entry.size)
        case .directory:
            archive_entry_set_filetype(header, FileType.dir)
        case .symlink:
            archive_entry_set_filetype(header, FileType.lnk)
            entry.symlinkTarget.withCName { archive_entry_copy_symlink(header, $0) }
        case .hardlink:
            archive_entry_set_filetype(header, FileType.reg)
            archive_entry_set_size(header, 0)
            (entry.hardlinkTarget ?? MemberPath(components: [])).bytes.withCName { archive_entry_copy_hardlink(header, $0) }
        case .fifo:
            archive_entry_set_filetype(header, FileType.fifo)
        case .characterDevice, .blockDevice:
            archive_entry_set_filetype(header, entry.kind == .characterDevice ? FileType.chr : FileType.blk)
            archive_entry_set_rdevmajor(header, dev_t(entry.deviceMajor))
            archive_entry_set_rdevminor(header, dev_t(entry.deviceMinor))
        case .socket:
            warnings.append("\(describe(entry.path)) is a socket: left out")
            return
        }
        for xattr in entry.xattrs {
            xattr.value.withUnsafeBytes { archive_entry_xattr_add_entry(header, xattr.name, $0.baseAddress, $0.count) }
        }
        let rc = archive_write_header(archive, header)
        if rc != ARCHIVE_OK && rc != ARCHIVE_WARN {
            throw BurrowError.engine("cannot write \(describe(entry.path)) to the archive: \(message)")
        }
        if entry.kind == .regular && entry.size > 0 { try writeData(entry, source) }
    }

    /// Exactly the size the header gave: a file that grew since is cut
    /// there, one that shrank is padded with zeros (as GNU tar does).
    private func writeData(_ entry: CopyEntry, _ source: CopySource) throws {
        var written: Int64 = 0
        func put(_ bytes: UnsafeRawBufferPointer) throws {
            let count = Int(min(Int64(bytes.count), entry.size - written))
            guard count > 0 else { return }
            let n = archive_write_data(archive, bytes.baseAddress, count)
            if n < 0 { throw BurrowError.engine("cannot write \(describe(entry.path)) to the archive: \(message)") }
            written += Int64(count)
        }
        let zeros = [UInt8](repeating: 0, count: 1 << 16)
        func pad(to end: Int64) throws {
            while written < end {
                try zeros.withUnsafeBytes { raw in
                    try put(UnsafeRawBufferPointer(rebasing: raw[0..<Int(min(Int64(raw.count), end - written))]))
                }
            }
        }
        try source.readData { block, offset in
            try pad(to: min(offset, entry.size))
            try put(block)
        }
        if written < entry.size {
            warnings.append("\(describe(entry.path)) shrank while it was read: padded with zeros")
            try pad(to: entry.size)
        }
    }

    public func finish() throws {
        if archive_write_close(archive) != ARCHIVE_OK {
            throw BurrowError.engine("cannot finish the tar archive: \(message)")
        }
    }
}

/// S_IF* as archive_entry_set_filetype takes them (the AE_IF* macros do not import).
private enum FileType {
    static let reg: UInt32 = 0o100000
    static let dir: UInt32 = 0o040000
    static let lnk: UInt32 = 0o120000
    static let fifo: UInt32 = 0o010000
    static let chr: UInt32 = 0o020000
    static let blk: UInt32 = 0o060000
}
