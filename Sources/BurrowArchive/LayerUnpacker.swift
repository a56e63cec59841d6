import BurrowSystem
import CBurrowSys
import Glibc

/// Writes a layer's members into a directory and nowhere else. Every parent
/// directory is resolved inside the layer (openat2 RESOLVE_IN_ROOT), and the
/// last component is never followed, so `..`, absolute names and symlinks or
/// hard links pointing out all land inside the layer or are refused.
public final class LayerUnpacker {
    public struct Statistics: Sendable {
        public var entries = 0
        public var bytes: Int64 = 0
        public var skippedDevices = 0
        public var warnings: [String] = []
    }

    public struct UnmappedOwner: Error, CustomStringConvertible {
        public let path: String
        public let uid: Int64
        public let gid: Int64
        public let mapped: String
        public var description: String {
            "layer file \(path) is owned by \(uid):\(gid), outside the ids \(mapped) that this user's namespace maps"
        }
    }

    private let rootPath: String
    private let root: Int32
    private let whiteouts: WhiteoutFormat
    private let ownership: OwnershipPolicy
    private var statistics = Statistics()
    private var cachedParent: (path: [UInt8], fd: Int32)? = nil
    /// Set when an entry removed something or made a symlink: a cached
    /// parent may now resolve differently. The descriptor stays open until
    /// the next lookup, because the entry in progress still uses it.
    private var cachedParentStale = false
    private var directoryTimes: [(MemberPath, timespec)] = []
    private static let resolve = UInt64(BSYS_RESOLVE_IN_ROOT | BSYS_RESOLVE_NO_MAGICLINKS)

    public init(root: String, whiteouts: WhiteoutFormat, ownership: OwnershipPolicy) throws {
        rootPath = root
        self.root = try syscall("open", root) { bsys_openat(AT_FDCWD, root, O_RDONLY | O_DIRECTORY, 0) }
        self.whiteouts = whiteouts
        self.ownership = ownership
    }

    deinit {
        dropCachedParent()
        close(root)
    }

    public func unpack(_ stream: LayerStream) throws -> Statistics {
        while let entry = try stream.next() {
            statistics.entries += 1
            try apply(entry, stream)
        }
        try restoreDirectoryTimes()
        return statistics
    }

    private func apply(_ entry: LayerEntry, _ stream: LayerStream) throws {
        let path: MemberPath
        do {
            path = try MemberPath.clean(entry.rawPath)
        } catch {
            throw ArchiveError("layer member \(entry.displayPath) climbs out of the root: refusing the layer")
        }
        if path.isRoot {
            if entry.kind == .directory { try setMetadata(fd: root, entry: entry, path: path) }
            return
        }
        let name = path.name
        if name.starts(with: Array(".wh.".utf8)) {
            try applyWhiteout(path, entry: entry)
            return
        }
        if entry.kind == .characterDevice && entry.deviceMajor == 0 && entry.deviceMinor == 0 {
            try whiteout(parent: path.parent, name: name, display: path)
            return
        }
        let parent = try openParent(path.parent, display: path)
        switch entry.kind {
        case .directory:
            try writeDirectory(parent, name, entry, path)
        case .regular:
            try removeExisting(parent, name, keepDirectory: false, display: path)
            try writeRegular(parent, name, entry, path, stream)
        case .symlink:
            try removeExisting(parent, name, keepDirectory: false, display: path)
            try entry.linkTarget.withCName { target in
                try name.withCName { n in try syscall("symlink", path.description) { symlinkat(target, parent, n) } }
            }
            cachedParentStale = true
            try setOwner(parent, name, entry, path)
            try setTimes(parent, name, entry)
        case .hardlink:
            try removeExisting(parent, name, keepDirectory: false, display: path)
            try writeHardlink(parent, name, entry, path)
        case .fifo:
            try removeExisting(parent, name, keepDirectory: false, display: path)
            try name.withCName { n in try syscall("mkfifo", path.description) { mkfifoat(parent, n, entry.mode) } }
            try setOwner(parent, name, entry, path)
            try name.withCName { n in try syscall("chmod", path.description) { fchmodat(parent, n, entry.mode, 0) } }
            try setTimes(parent, name, entry)
        case .characterDevice, .blockDevice:
            // A user namespace may not create devices; /dev is a fresh tmpfs in every container.
            try removeExisting(parent, name, keepDirectory: false, display: path)
            let type: mode_t = entry.kind == .characterDevice ? S_IFCHR : S_IFBLK
            let made = name.withCName { n in mknodat(parent, n, type | entry.mode, bsys_makedev(entry.deviceMajor, entry.deviceMinor)) }
            if made == 0 {
                try setOwner(parent, name, entry, path)
            } else {
                statistics.skippedDevices += 1
            }
        case .socket:
            break
        }
    }

    // MARK: members

    private func writeDirectory(_ parent: Int32, _ name: [UInt8], _ entry: LayerEntry, _ path: MemberPath) throws {
        try removeExisting(parent, name, keepDirectory: true, display: path)
        let made = name.withCName { mkdirat(parent, $0, 0o700) }
        if made != 0 && errno != EEXIST { throw SystemError("mkdir", path: path.description, errno: errno) }
        let fd = try name.withCName { n in
            try syscall("open", path.description) { bsys_openat(parent, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0) }
        }
        defer { close(fd) }
        try setMetadata(fd: fd, entry: entry, path: path)
        directoryTimes.append((path, timespec(tv_sec: Int(entry.mtime), tv_nsec: entry.mtimeNanoseconds)))
    }

    private func writeRegular(_ parent: Int32, _ name: [UInt8], _ entry: LayerEntry, _ path: MemberPath, _ stream: LayerStream) throws {
        let fd = try name.withCName { n in
            try syscall("create", path.description) { bsys_openat(parent, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600) }
        }
        defer { close(fd) }
        var end: Int64 = 0
        try stream.readData { block, offset in
            var written = 0
            while written < block.count {
                let n = try syscall("write", path.description) {
                    pwrite(fd, block.baseAddress! + written, block.count - written, off_t(offset) + off_t(written))
                }
                written += n
            }
            end = max(end, offset + Int64(block.count))
        }
        if entry.size > end {
            try syscall("truncate", path.description) { ftruncate(fd, off_t(entry.size)) }
        }
        statistics.bytes += entry.size
        // Owner before mode (chown clears setuid), mode before capabilities (chown clears them too).
        try setMetadata(fd: fd, entry: entry, path: path)
        var times = [timespec(tv_sec: Int(entry.mtime), tv_nsec: entry.mtimeNanoseconds),
                     timespec(tv_sec: Int(entry.mtime), tv_nsec: entry.mtimeNanoseconds)]
        futimens(fd, &times)
    }

    private func writeHardlink(_ parent: Int32, _ name: [UInt8], _ entry: LayerEntry, _ path: MemberPath) throws {
        let targetPath: MemberPath
        do {
            targetPath = try MemberPath.clean(entry.linkTarget)
        } catch {
            throw ArchiveError("layer member \(path) is a hard link climbing out of the root: refusing the layer")
        }
        let target = targetPath.withCString { t in
            bsys_openat2(root, t, UInt64(BSYS_O_PATH | O_NOFOLLOW), 0, LayerUnpacker.resolve)
        }
        guard target >= 0 else {
            throw ArchiveError("layer member \(path) is a hard link to \(targetPath), which this layer does not hold")
        }
        defer { close(target) }
        var st = stat()
        fstat(target, &st)
        if bsys_is_dir(st.st_mode) != 0 {
            throw ArchiveError("layer member \(path) is a hard link to the directory \(targetPath): refusing the layer")
        }
        try name.withCName { n in
            try syscall("link", path.description) { linkat(AT_FDCWD, "/proc/self/fd/\(target)", parent, n, AT_SYMLINK_FOLLOW) }
        }
    }

    private func applyWhiteout(_ path: MemberPath, entry: LayerEntry) throws {
        let name = path.name
        if whiteouts == .aufs {
            let parent = try openParent(path.parent, display: path)
            try removeExisting(parent, name, keepDirectory: false, display: path)
            let fd = try name.withCName { n in
                try syscall("create", path.description) { bsys_openat(parent, n, O_WRONLY | O_CREAT | O_NOFOLLOW, 0o600) }
            }
            close(fd)
            return
        }
        if name == Array(".wh..wh..opq".utf8) {
            let location = try openDirectoryCreating(path.parent, display: path)
            defer { close(location) }
            // Extended attributes need a real descriptor, not an O_PATH one.
            let directory = try syscall("open", path.parent.description) { bsys_openat(location, ".", O_RDONLY | O_DIRECTORY, 0) }
            defer { close(directory) }
            let rc = bsys_fsetxattr(directory, "user.overlay.opaque", "y", 1)
            if rc != 0 { throw SystemError("set opaque marker on", path: path.parent.description, errno: errno) }
            return
        }
        let hidden = Array(name.dropFirst(4))
        guard !hidden.isEmpty, hidden != [46], hidden != [46, 46] else {
            throw ArchiveError("layer member \(path) is not a valid whiteout")
        }
        try whiteout(parent: path.parent, name: hidden, display: path)
    }

    private func whiteout(parent parentPath: MemberPath, name: [UInt8], display: MemberPath) throws {
        if whiteouts == .aufs {
            let parent = try openParent(parentPath, display: display)
            let marker = Array(".wh.".utf8) + name
            try removeExisting(parent, marker, keepDirectory: false, display: display)
            let fd = try marker.withCName { n in
                try syscall("create", display.description) { bsys_openat(parent, n, O_WRONLY | O_CREAT | O_NOFOLLOW, 0o600) }
            }
            close(fd)
            return
        }
        let parent = try openParent(parentPath, display: display)
        try removeExisting(parent, name, keepDirectory: false, display: display)
        try name.withCName { n in
            try syscall("make whiteout", display.description) { mknodat(parent, n, S_IFCHR, bsys_makedev(0, 0)) }
        }
    }

    // MARK: metadata

    private func setMetadata(fd: Int32, entry: LayerEntry, path: MemberPath) throws {
        switch ownership.owner(uid: entry.uid, gid: entry.gid) {
        case .none:
            throw UnmappedOwner(path: path.description, uid: entry.uid, gid: entry.gid, mapped: ownership.uidDescription)
        case .some(.none):
            break
        case .some(.some(let owner)):
            try syscall("chown", path.description) { fchown(fd, owner.uid, owner.gid) }
        }
        try syscall("chmod", path.description) { fchmod(fd, entry.mode) }
        for (name, value) in entry.xattrs {
            if name.hasPrefix("user.overlay.") || name.hasPrefix("trusted.") { continue }
            let rc = value.withUnsafeBytes { bsys_fsetxattr(fd, name, $0.baseAddress, $0.count) }
            if rc != 0 {
                let reason = String(cString: strerror(errno))
                if name == "security.capability" || statistics.warnings.count < 5 {
                    statistics.warnings.append("could not keep \(name) on \(path): \(reason)")
                }
            }
        }
    }

    private func setOwner(_ parent: Int32, _ name: [UInt8], _ entry: LayerEntry, _ path: MemberPath) throws {
        switch ownership.owner(uid: entry.uid, gid: entry.gid) {
        case .none:
            throw UnmappedOwner(path: path.description, uid: entry.uid, gid: entry.gid, mapped: ownership.uidDescription)
        case .some(.none):
            return
        case .some(.some(let owner)):
            try name.withCName { n in
                try syscall("chown", path.description) { fchownat(parent, n, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) }
            }
        }
    }

    private func setTimes(_ parent: Int32, _ name: [UInt8], _ entry: LayerEntry) throws {
        var times = [timespec(tv_sec: Int(entry.mtime), tv_nsec: entry.mtimeNanoseconds),
                     timespec(tv_sec: Int(entry.mtime), tv_nsec: entry.mtimeNanoseconds)]
        _ = name.withCName { utimensat(parent, $0, &times, AT_SYMLINK_NOFOLLOW) }
    }

    /// Directory times last: writing into a directory changes its mtime.
    private func restoreDirectoryTimes() throws {
        dropCachedParent()
        for (path, time) in directoryTimes.reversed() {
            let fd = path.withCString { bsys_openat2(root, $0, UInt64(O_RDONLY | O_DIRECTORY | O_NOFOLLOW), 0, LayerUnpacker.resolve) }
            if fd < 0 { continue }
            var times = [time, time]
            futimens(fd, &times)
            close(fd)
        }
    }

    // MARK: paths

    private func dropCachedParent() {
        if let cached = cachedParent { close(cached.fd) }
        cachedParent = nil
    }

    /// The directory that will hold a member, resolved inside the root and
    /// created (0755, owned by root) where the archive did not list it.
    private func openParent(_ path: MemberPath, display: MemberPath) throws -> Int32 {
        let key = path.bytes
        if let cached = cachedParent, cached.path == key, !cachedParentStale { return cached.fd }
        let fd = try openDirectoryCreating(path, display: display)
        dropCachedParent()
        cachedParent = (key, fd)
        cachedParentStale = false
        return fd
    }

    /// Walks `path` as RESOLVE_IN_ROOT would (".." stops at the root, an
    /// absolute symlink starts again from it), creating each missing
    /// directory, including the target of a symlink that points nowhere yet.
    private func openDirectoryCreating(_ path: MemberPath, display: MemberPath) throws -> Int32 {
        let flags = UInt64(BSYS_O_PATH | O_DIRECTORY)
        let direct = path.withCString { bsys_openat2(root, $0, flags, 0, LayerUnpacker.resolve) }
        if direct >= 0 { return direct }
        if errno != ENOENT { throw SystemError("open parent of", path: display.description, errno: errno) }

        var resolved: [[UInt8]] = []
        var pending = path.components
        var hops = 0
        while !pending.isEmpty {
            let name = pending.removeFirst()
            let parent = try MemberPath(components: resolved).withCString { p in
                try syscall("open parent of", display.description) { bsys_openat2(root, p, flags, 0, LayerUnpacker.resolve) }
            }
            defer { close(parent) }
            var st = stat()
            if name.withCName({ fstatat(parent, $0, &st, AT_SYMLINK_NOFOLLOW) }) != 0 {
                let made = name.withCName { mkdirat(parent, $0, 0o755) }
                if made != 0 && errno != EEXIST { throw SystemError("mkdir", path: display.description, errno: errno) }
                resolved.append(name)
            } else if bsys_is_dir(st.st_mode) != 0 {
                resolved.append(name)
            } else if bsys_is_lnk(st.st_mode) != 0 {
                hops += 1
                if hops > 40 { throw SystemError("open parent of", path: display.description, errno: ELOOP) }
                var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
                let length = name.withCName { n in buffer.withUnsafeMutableBytes { readlinkat(parent, n, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) } }
                if length < 0 { throw SystemError("readlink", path: display.description, errno: errno) }
                let target = Array(buffer[0..<length])
                var walk = target.first == 47 ? [] : resolved
                for part in target.split(separator: 47, omittingEmptySubsequences: true) {
                    if part.elementsEqual([46]) { continue }
                    if part.elementsEqual([46, 46]) { if !walk.isEmpty { walk.removeLast() }; continue }
                    walk.append(Array(part))
                }
                resolved = []
                pending = walk + pending
            } else {
                throw SystemError("open parent of", path: display.description, errno: ENOTDIR)
            }
        }
        return try MemberPath(components: resolved).withCString { p in
            try syscall("open parent of", display.description) { bsys_openat2(root, p, flags, 0, LayerUnpacker.resolve) }
        }
    }

    /// Makes room for a member: an existing directory stays when a directory
    /// arrives (its contents merge), anything else is removed.
    private func removeExisting(_ parent: Int32, _ name: [UInt8], keepDirectory: Bool, display: MemberPath) throws {
        var st = stat()
        let found = name.withCName { fstatat(parent, $0, &st, AT_SYMLINK_NOFOLLOW) }
        if found != 0 { return }
        let isDirectory = bsys_is_dir(st.st_mode) != 0
        if isDirectory && keepDirectory { return }
        cachedParentStale = true
        if isDirectory {
            let fd = try name.withCName { n in
                try syscall("open", display.description) { bsys_openat(parent, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0) }
            }
            let path = "/proc/self/fd/\(fd)"
            for child in try FileSystem.entries(of: path) {
                try FileSystem.removeTree(path + "/" + child)
            }
            close(fd)
            try name.withCName { n in try syscall("rmdir", display.description) { unlinkat(parent, n, AT_REMOVEDIR) } }
        } else {
            try name.withCName { n in try syscall("unlink", display.description) { unlinkat(parent, n, 0) } }
        }
    }
}
