import BurrowArchive
import BurrowSystem
import CBurrowSys
import Glibc

/// Walks a tree from a descriptor of its top, directories before their
/// contents, names in byte order. Nothing is ever followed: each name is
/// opened O_PATH|O_NOFOLLOW from its directory's descriptor and everything
/// about it is read from that descriptor, so a name the container swaps for
/// a symlink halfway is read as that symlink, and a regular file is reopened
/// through its own descriptor, never by name. With `sameMount`, a name that
/// is a mount point (the container's /proc, /dev, /sys, its generated /etc
/// files) is left out: it is not the container's root filesystem.
public final class TreeReader: CopySource {
    private struct Level {
        let fd: Int32
        let path: MemberPath
        let names: [[UInt8]]
        var index = 0
    }

    private struct FileKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private var top: Int32?
    private var stack: [Level] = []
    private var file: Int32 = -1
    private var fileSize: Int64 = 0
    private let sameMount: Bool
    private let describe: (MemberPath) -> String
    private var links: [FileKey: MemberPath] = [:]
    /// Mount points left out, as `describe` names them.
    public private(set) var leftOut: [String] = []

    /// Takes ownership of `top`, an O_PATH descriptor of what to copy.
    public init(top: Int32, sameMount: Bool, describe: @escaping (MemberPath) -> String) {
        self.top = top
        self.sameMount = sameMount
        self.describe = describe
    }

    deinit {
        closeFile()
        if let top { close(top) }
        for level in stack { close(level.fd) }
    }

    public var currentFile: Int32? { file >= 0 ? file : nil }

    public func next() throws -> CopyEntry? {
        closeFile()
        if let fd = top {
            top = nil
            defer { close(fd) }
            return try entry(fd, path: MemberPath(components: []))
        }
        while !stack.isEmpty {
            let last = stack.count - 1
            guard stack[last].index < stack[last].names.count else {
                close(stack[last].fd)
                stack.removeLast()
                continue
            }
            let name = stack[last].names[stack[last].index]
            stack[last].index += 1
            let path = stack[last].path.appending(name)
            let flags = sameMount ? Resolve.beneathSameMount : Resolve.beneath
            let fd = name.withCName { bsys_openat2(stack[last].fd, $0, UInt64(BSYS_O_PATH | O_NOFOLLOW), 0, flags) }
            if fd < 0 {
                let error = errno
                if error == ENOENT { continue }  // gone since the directory was read
                if error == EXDEV {
                    leftOut.append(describe(path))
                    continue
                }
                throw SystemError("open", path: describe(path), errno: error)
            }
            defer { close(fd) }
            return try entry(fd, path: path)
        }
        return nil
    }

    public func readData(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws {
        guard file >= 0 else { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let n = try syscall("read") { read(file, buffer.baseAddress, buffer.count) }
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), offset)
            offset += Int64(n)
        }
    }

    private func closeFile() {
        if file >= 0 { close(file) }
        file = -1
    }

    /// The entry for `fd` (O_PATH, not followed). A directory's names are
    /// read now and walked after it; a regular file is opened for reading.
    private func entry(_ fd: Int32, path: MemberPath) throws -> CopyEntry {
        var st = stat()
        try syscall("stat", describe(path)) { fstat(fd, &st) }
        let mode = UInt32(st.st_mode)
        var entry = CopyEntry(path: path, kind: TreeReader.kind(mode), mode: mode & 0o7777, uid: st.st_uid, gid: st.st_gid,
                              modified: FileTime(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: st.st_mtim.tv_nsec),
                              accessed: FileTime(seconds: Int64(st.st_atim.tv_sec), nanoseconds: st.st_atim.tv_nsec))
        if entry.kind != .directory && st.st_nlink > 1 {
            let key = FileKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            if let first = links[key] {
                entry.kind = .hardlink
                entry.hardlinkTarget = first
                return entry
            }
            links[key] = path
        }
        switch entry.kind {
        case .directory:
            let listing = try syscall("open", describe(path)) { bsys_openat(fd, ".", O_RDONLY | O_DIRECTORY, 0) }
            do {
                stack.append(Level(fd: listing, path: path, names: try TreeReader.names(listing, display: describe(path))))
            } catch {
                close(listing)
                throw error
            }
        case .regular:
            // Reopened through the descriptor: the same inode, whatever the name holds now.
            file = try syscall("open", describe(path)) { bsys_openat(AT_FDCWD, "/proc/self/fd/\(fd)", O_RDONLY | O_NOCTTY, 0) }
            entry.size = Int64(st.st_size)
            var value = [UInt8](repeating: 0, count: 1024)
            let length = bsys_fgetxattr(file, "security.capability", &value, value.count)
            if length > 0 { entry.xattrs = [.init(name: "security.capability", value: Array(value[0..<length]))] }
        case .symlink:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = try syscall("readlink", describe(path)) { readlinkat(fd, "", &buffer, Int(PATH_MAX)) }
            entry.symlinkTarget = buffer[0..<n].map { UInt8(bitPattern: $0) }
        case .characterDevice, .blockDevice:
            entry.deviceMajor = bsys_major(st.st_rdev)
            entry.deviceMinor = bsys_minor(st.st_rdev)
        case .fifo, .socket, .hardlink:
            break
        }
        return entry
    }

    static func kind(_ mode: UInt32) -> CopyEntry.Kind {
        switch mode & UInt32(S_IFMT) {
        case UInt32(S_IFDIR): return .directory
        case UInt32(S_IFLNK): return .symlink
        case UInt32(S_IFCHR): return .characterDevice
        case UInt32(S_IFBLK): return .blockDevice
        case UInt32(S_IFIFO): return .fifo
        case UInt32(S_IFSOCK): return .socket
        default: return .regular
        }
    }

    /// The names in a directory, in byte order; takes nothing from `fd`.
    static func names(_ fd: Int32, display: String) throws -> [[UInt8]] {
        let copy = try syscall("open", display) { bsys_openat(fd, ".", O_RDONLY | O_DIRECTORY, 0) }
        guard let dir = fdopendir(copy) else {
            let error = errno
            close(copy)
            throw SystemError("opendir", path: display, errno: error)
        }
        defer { closedir(dir) }
        var result: [[UInt8]] = []
        while let item = readdir(dir) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [46] || name == [46, 46] { continue }
            result.append(name)
        }
        return result.sorted { $0.lexicographicallyPrecedes($1) }
    }
}
