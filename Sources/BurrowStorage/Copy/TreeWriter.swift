import BurrowArchive
import BurrowSystem
import CBurrowSys
import Glibc

/// Writes entries under one directory and nowhere else.
///
/// Paths are relative to `base`, itself relative to the `anchor`
/// descriptor. Every parent is resolved from the anchor by openat2, and
/// the last component is never followed: it is created with O_EXCL,
/// mkdirat or symlinkat after whatever was there is removed (a directory
/// is kept, and merged into, only when a directory arrives). So:
///
/// - in a container (`anchor` is its root), a symlink the container planted,
///   `/etc/x -> /` or `a/b -> ../../..`, resolves inside the container, as it
///   would for the container itself, and no mount inside it is entered;
/// - on the host (`anchor` is the directory the user named), no symlink
///   beneath the anchor is followed at all: a tree from a container cannot
///   lead a write anywhere else.
public final class TreeWriter: CopyDestination {
    public enum Confinement: Sendable {
        case containerRoot
        case hostDirectory
    }

    public struct Settings: Sendable {
        public var owners: CopyOwners
        /// The owner of parent directories this writer has to create.
        public var parentOwner: (uid: UInt32, gid: UInt32)
        /// A directory that is already there and merged into takes the
        /// arriving owner too (Docker does so in a container, never on the host).
        public var chownExistingDirectories: Bool
        /// A regular file owned by this uid (gid) loses its setuid (setgid)
        /// bit: on the host, a container must not hand out the user's identity.
        public var clearSetIDFor: (uid: UInt32, gid: UInt32)?

        public init(owners: CopyOwners, parentOwner: (uid: UInt32, gid: UInt32), chownExistingDirectories: Bool,
                    clearSetIDFor: (uid: UInt32, gid: UInt32)?) {
            self.owners = owners
            self.parentOwner = parentOwner
            self.chownExistingDirectories = chownExistingDirectories
            self.clearSetIDFor = clearSetIDFor
        }
    }

    private let anchor: Int32
    private let base: MemberPath
    private let confinement: Confinement
    private let settings: Settings
    private let describe: (MemberPath) -> String
    private var cachedParent: (path: MemberPath, fd: Int32)? = nil
    private var directoryTimes: [(path: MemberPath, accessed: FileTime, modified: FileTime)] = []
    public private(set) var warnings: [String] = []

    /// `anchor` is borrowed: it stays open for the writer's life. `describe`
    /// names a path relative to `base` for messages.
    public init(anchor: Int32, base: MemberPath, confinement: Confinement, settings: Settings,
                describe: @escaping (MemberPath) -> String) {
        self.anchor = anchor
        self.base = base
        self.confinement = confinement
        self.settings = settings
        self.describe = describe
    }

    deinit { dropCachedParent() }

    private var parentResolve: UInt64 { confinement == .containerRoot ? Resolve.inContainer : Resolve.beneath }
    private var lastResolve: UInt64 { confinement == .containerRoot ? Resolve.beneathSameMount : Resolve.beneath }

    public func write(_ entry: CopyEntry, from source: CopySource) throws {
        let path = entry.path
        if path.isRoot {
            // `.` in an archive: the destination directory itself, left as it is.
            guard entry.kind == .directory else {
                throw BurrowError.invalidArgument("\(describe(path)) is a directory: an archive member named . must be a directory")
            }
            return
        }
        let parent = try openParent(path.parent)
        let name = path.name
        switch entry.kind {
        case .directory:
            try writeDirectory(parent, name, entry)
        case .regular:
            try clearSlot(parent, name, path)
            try writeRegular(parent, name, entry, source)
        case .symlink:
            try clearSlot(parent, name, path)
            try entry.symlinkTarget.withCName { target in
                try name.withCName { n in try syscall("symlink", describe(path)) { symlinkat(target, parent, n) } }
            }
            let owner = try self.owner(entry)
            try name.withCName { n in try syscall("chown", describe(path)) { fchownat(parent, n, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) } }
            setTimes(parent, name, entry)
        case .hardlink:
            try clearSlot(parent, name, path)
            try writeHardlink(parent, name, entry)
        case .fifo:
            try clearSlot(parent, name, path)
            try name.withCName { n in try syscall("mkfifo", describe(path)) { mkfifoat(parent, n, 0o600) } }
            try setOwnerAndMode(parent, name, entry)
            setTimes(parent, name, entry)
        case .characterDevice, .blockDevice:
            try clearSlot(parent, name, path)
            let type = entry.kind == .characterDevice ? S_IFCHR : S_IFBLK
            let made = name.withCName { mknodat(parent, $0, type | 0o600, bsys_makedev(entry.deviceMajor, entry.deviceMinor)) }
            if made != 0 {
                warnings.append("\(describe(path)) is a device, which a user namespace cannot create: left out")
                return
            }
            try setOwnerAndMode(parent, name, entry)
            setTimes(parent, name, entry)
        case .socket:
            warnings.append("\(describe(path)) is a socket: left out")
        }
    }

    public func finish() throws {
        dropCachedParent()
        // Last, and deepest first: writing into a directory changes its times.
        for item in directoryTimes.reversed() {
            let full = MemberPath(components: base.components + item.path.components)
            let fd = full.withCString { bsys_openat2(anchor, $0, UInt64(O_RDONLY | O_DIRECTORY | O_NOFOLLOW), 0, parentResolve) }
            if fd < 0 { continue }
            var times = [timespec(item.accessed), timespec(item.modified)]
            futimens(fd, &times)
            close(fd)
        }
        directoryTimes = []
    }

    // MARK: entries

    private func writeDirectory(_ parent: Int32, _ name: [UInt8], _ entry: CopyEntry) throws {
        let path = entry.path
        var created = false
        var fd = openDirectory(parent, name)
        if fd < 0 && errno == ENOENT {
            let made = name.withCName { mkdirat(parent, $0, 0o700) }
            if made != 0 && errno != EEXIST { throw SystemError("mkdir", path: describe(path), errno: errno) }
            created = made == 0
            fd = openDirectory(parent, name)
        }
        if fd < 0 {
            switch errno {
            case ENOTDIR, ELOOP:
                throw BurrowError.conflict("cannot overwrite the non-directory \(describe(path)) with a directory")
            case EXDEV:
                throw BurrowError.invalidArgument("\(describe(path)) is a mount point in the container: only its root filesystem can be written")
            default:
                throw SystemError("open", path: describe(path), errno: errno)
            }
        }
        defer { close(fd) }
        if created || settings.chownExistingDirectories {
            let owner = try self.owner(entry)
            try syscall("chown", describe(path)) { fchown(fd, owner.uid, owner.gid) }
        }
        try syscall("chmod", describe(path)) { fchmod(fd, mode_t(entry.mode)) }
        setXattrs(fd, entry)
        directoryTimes.append((path, entry.accessed, entry.modified))
    }

    private func openDirectory(_ parent: Int32, _ name: [UInt8]) -> Int32 {
        name.withCName { bsys_openat2(parent, $0, UInt64(O_RDONLY | O_DIRECTORY | O_NOFOLLOW), 0, lastResolve) }
    }

    private func writeRegular(_ parent: Int32, _ name: [UInt8], _ entry: CopyEntry, _ source: CopySource) throws {
        let path = entry.path
        let fd = try name.withCName { n in
            try syscall("create", describe(path)) { bsys_openat(parent, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600) }
        }
        defer { close(fd) }
        if let input = source.currentFile {
            try CopyData.copy(from: input, to: fd, display: describe(path))
        } else {
            var end: Int64 = 0
            try source.readData { block, offset in
                var done = 0
                while done < block.count {
                    done += try syscall("write", describe(path)) {
                        pwrite(fd, block.baseAddress! + done, block.count - done, off_t(offset) + off_t(done))
                    }
                }
                end = max(end, offset + Int64(block.count))
            }
            if entry.size > end { try syscall("truncate", describe(path)) { ftruncate(fd, off_t(entry.size)) } }
        }
        // Owner before mode (chown clears setuid), mode before capabilities (chown clears them too).
        let owner = try self.owner(entry)
        try syscall("chown", describe(path)) { fchown(fd, owner.uid, owner.gid) }
        var mode = entry.mode
        if let clear = settings.clearSetIDFor {
            if owner.uid == clear.uid { mode &= ~UInt32(S_ISUID) }
            if owner.gid == clear.gid { mode &= ~UInt32(S_ISGID) }
        }
        try syscall("chmod", describe(path)) { fchmod(fd, mode_t(mode)) }
        setXattrs(fd, entry)
        var times = [timespec(entry.accessed), timespec(entry.modified)]
        futimens(fd, &times)
    }

    private func writeHardlink(_ parent: Int32, _ name: [UInt8], _ entry: CopyEntry) throws {
        let path = entry.path
        guard let target = entry.hardlinkTarget, !target.isRoot else {
            throw BurrowError.invalidArgument("\(describe(path)) is a hard link without a target")
        }
        let full = MemberPath(components: base.components + target.components)
        let fd = full.withCString { bsys_openat2(anchor, $0, UInt64(BSYS_O_PATH | O_NOFOLLOW), 0, parentResolve) }
        guard fd >= 0 else {
            throw BurrowError.notFound("\(describe(path)) is a hard link to \(describe(target)), which is not there")
        }
        defer { close(fd) }
        var st = stat()
        try syscall("stat", describe(target)) { fstat(fd, &st) }
        guard bsys_is_reg(st.st_mode) != 0 else {
            throw BurrowError.invalidArgument("\(describe(path)) is a hard link to \(describe(target)), which is not a regular file")
        }
        try name.withCName { n in
            try syscall("link", describe(path)) { linkat(AT_FDCWD, "/proc/self/fd/\(fd)", parent, n, AT_SYMLINK_FOLLOW) }
        }
    }

    // MARK: metadata

    private func owner(_ entry: CopyEntry) throws -> (uid: UInt32, gid: UInt32) {
        switch settings.owners {
        case .fixed(let uid, let gid):
            return (uid, gid)
        case .kept(let identities):
            if identities.isMapped(uid: entry.uid, gid: entry.gid) { return (entry.uid, entry.gid) }
            if identities.mapped.isSingleID { return identities.containerRoot }
            throw BurrowError.unsupported("cannot keep the owner \(entry.uid):\(entry.gid) of \(describe(entry.path)): your user namespace maps only the ids \(identities.mapped.uidDescription); copy without -a, or ask for a larger range in /etc/subuid and /etc/subgid")
        }
    }

    private func setOwnerAndMode(_ parent: Int32, _ name: [UInt8], _ entry: CopyEntry) throws {
        let owner = try self.owner(entry)
        try name.withCName { n in try syscall("chown", describe(entry.path)) { fchownat(parent, n, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) } }
        try name.withCName { n in try syscall("chmod", describe(entry.path)) { fchmodat(parent, n, mode_t(entry.mode & 0o1777), 0) } }
    }

    private func setTimes(_ parent: Int32, _ name: [UInt8], _ entry: CopyEntry) {
        var times = [timespec(entry.accessed), timespec(entry.modified)]
        _ = name.withCName { utimensat(parent, $0, &times, AT_SYMLINK_NOFOLLOW) }
    }

    private func setXattrs(_ fd: Int32, _ entry: CopyEntry) {
        for xattr in entry.xattrs where !xattr.name.hasPrefix("trusted.") && !xattr.name.hasPrefix("user.overlay.") {
            let rc = xattr.value.withUnsafeBytes { bsys_fsetxattr(fd, xattr.name, $0.baseAddress, $0.count) }
            if rc != 0 && warnings.count < 20 {
                warnings.append("could not keep \(xattr.name) on \(describe(entry.path)): \(String(cString: strerror(errno)))")
            }
        }
    }

    // MARK: paths

    /// Makes room for a non-directory: an existing directory is an error (as
    /// in Docker), anything else is removed, never followed.
    private func clearSlot(_ parent: Int32, _ name: [UInt8], _ path: MemberPath) throws {
        var st = stat()
        guard name.withCName({ fstatat(parent, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else { return }
        if bsys_is_dir(st.st_mode) != 0 {
            throw BurrowError.conflict("cannot overwrite the directory \(describe(path)) with a non-directory")
        }
        switch syscallResult({ name.withCName { unlinkat(parent, $0, 0) } }) {
        case .success, .failure(ENOENT): break
        case .failure(EBUSY):
            throw BurrowError.invalidArgument("\(describe(path)) is a mount point in the container: only its root filesystem can be written")
        case .failure(let error):
            throw SystemError("unlink", path: describe(path), errno: error)
        }
    }

    private func dropCachedParent() {
        if let cached = cachedParent { close(cached.fd) }
        cachedParent = nil
    }

    /// The directory that holds `path`'s entries, resolved from the anchor;
    /// a directory an archive did not list is created (0755). The last one
    /// is kept open: entries come grouped by directory. It stays right, as
    /// a directory is never removed or replaced here, only merged into.
    private func openParent(_ path: MemberPath) throws -> Int32 {
        if let cached = cachedParent, cached.path == path { return cached.fd }
        let fd = try openDirectoryCreating(path)
        dropCachedParent()
        cachedParent = (path, fd)
        return fd
    }

    private func openDirectoryCreating(_ path: MemberPath) throws -> Int32 {
        let full = MemberPath(components: base.components + path.components)
        let fd = full.withCString { bsys_openat2(anchor, $0, UInt64(BSYS_O_PATH | O_DIRECTORY), 0, parentResolve) }
        if fd >= 0 { return fd }
        let error = errno
        switch error {
        case ENOENT where !path.isRoot:
            let parent = try openDirectoryCreating(path.parent)
            defer { close(parent) }
            let made = path.name.withCName { mkdirat(parent, $0, 0o755) }
            if made != 0 && errno != EEXIST { throw SystemError("mkdir", path: describe(path), errno: errno) }
            if made == 0 {
                let owner = settings.parentOwner
                _ = path.name.withCName { fchownat(parent, $0, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) }
            }
            let again = full.withCString { bsys_openat2(anchor, $0, UInt64(BSYS_O_PATH | O_DIRECTORY), 0, parentResolve) }
            if again < 0 { throw failure(errno, path) }
            return again
        default:
            throw failure(error, path)
        }
    }

    private func failure(_ error: Int32, _ path: MemberPath) -> Error {
        switch error {
        case ENOTDIR:
            return BurrowError.conflict("\(describe(path)) is not a directory")
        case ELOOP where confinement == .hostDirectory:
            return BurrowError.conflict("\(describe(path)) is a symbolic link: burrow cp does not write through one")
        case EXDEV:
            return BurrowError.invalidArgument("\(describe(path)) is a mount point in the container: only its root filesystem can be written")
        default:
            return SystemError("open", path: describe(path), errno: error)
        }
    }
}
