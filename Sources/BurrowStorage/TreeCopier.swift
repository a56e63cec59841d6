import BurrowArchive
import BurrowSystem
import CBurrowSys
import Glibc

/// Copies unpacked layers into one directory, as the vfs driver needs:
/// owners, modes, times, extended attributes and hard links kept, data
/// reflinked where the filesystem can. Nothing is ever followed: every
/// directory is opened O_NOFOLLOW from its parent's descriptor. Run inside
/// the user namespace, where every owner can be set.
public struct TreeCopier {
    public enum Whiteouts {
        /// Apply them, as overlayfs would show the merged tree.
        case apply(WhiteoutFormat)
        /// Copy them as they are (a layer copied to a layer).
        case keep
    }

    public let whiteouts: Whiteouts
    /// Rewrites an owner on the way (keep-id swaps two ids); identity by default.
    public let owner: @Sendable (UInt32, UInt32) -> (UInt32, UInt32)
    private var links: [String: [UInt8]] = [:]

    public init(whiteouts: Whiteouts, owner: @escaping @Sendable (UInt32, UInt32) -> (UInt32, UInt32) = { ($0, $1) }) {
        self.whiteouts = whiteouts
        self.owner = owner
    }

    /// Copies the tree at `source` over the tree at `target` (which exists).
    public mutating func copy(from source: String, to target: String) throws {
        links = [:]
        let sourceFD = try syscall("open", source) { bsys_openat(AT_FDCWD, source, O_RDONLY | O_DIRECTORY, 0) }
        defer { close(sourceFD) }
        let targetFD = try syscall("open", target) { bsys_openat(AT_FDCWD, target, O_RDONLY | O_DIRECTORY, 0) }
        defer { close(targetFD) }
        try copyMetadata(from: sourceFD, to: targetFD, path: target)
        try copyDirectory(sourceFD, targetFD, path: [])
    }

    private func display(_ path: [UInt8]) -> String { String(decoding: path, as: UTF8.self) }

    private func names(in fd: Int32) throws -> [[UInt8]] {
        let copy = try syscall("open") { bsys_openat(fd, ".", O_RDONLY | O_DIRECTORY, 0) }
        guard let dir = fdopendir(copy) else { close(copy); throw SystemError("opendir", errno: errno) }
        defer { closedir(dir) }
        var result: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [46] || name == [46, 46] { continue }
            result.append(name)
        }
        return result.sorted { $0.lexicographicallyPrecedes($1) }
    }

    private func isOpaque(_ fd: Int32, names: [[UInt8]]) -> Bool {
        switch whiteouts {
        case .keep: return false
        case .apply(.aufs): return names.contains(Array(".wh..wh..opq".utf8))
        case .apply(.overlay):
            var value: UInt8 = 0
            return bsys_fgetxattr(fd, "user.overlay.opaque", &value, 1) == 1 && value == UInt8(ascii: "y")
        }
    }

    private mutating func copyDirectory(_ source: Int32, _ target: Int32, path: [UInt8]) throws {
        let entries = try names(in: source)
        if isOpaque(source, names: entries) {
            for name in try names(in: target) { try removeEntry(target, name, path: path + [47] + name) }
        }
        for name in entries {
            let childPath = path.isEmpty ? name : path + [47] + name
            var st = stat()
            try name.withCName { n in try syscall("stat", display(childPath)) { fstatat(source, n, &st, AT_SYMLINK_NOFOLLOW) } }

            if case .apply(let format) = whiteouts {
                if format == .aufs && name.starts(with: Array(".wh.".utf8)) {
                    let hidden = Array(name.dropFirst(4))
                    if hidden != Array(".wh..opq".utf8) { try removeEntry(target, hidden, path: childPath) }
                    continue
                }
                if format == .overlay && bsys_is_chr(st.st_mode) != 0 && st.st_rdev == 0 {
                    try removeEntry(target, name, path: childPath)
                    continue
                }
            }

            if bsys_is_dir(st.st_mode) != 0 {
                var existing = stat()
                let found = name.withCName { fstatat(target, $0, &existing, AT_SYMLINK_NOFOLLOW) } == 0
                if found && bsys_is_dir(existing.st_mode) == 0 { try removeEntry(target, name, path: childPath) }
                if !found || bsys_is_dir(existing.st_mode) == 0 {
                    try name.withCName { n in try syscall("mkdir", display(childPath)) { mkdirat(target, n, 0o700) } }
                }
                let childSource = try name.withCName { n in try syscall("open", display(childPath)) { bsys_openat(source, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0) } }
                defer { close(childSource) }
                let childTarget = try name.withCName { n in try syscall("open", display(childPath)) { bsys_openat(target, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0) } }
                defer { close(childTarget) }
                try copyDirectory(childSource, childTarget, path: childPath)
                try copyMetadata(from: childSource, to: childTarget, path: display(childPath))
                continue
            }

            try removeEntry(target, name, path: childPath)
            let key = "\(st.st_dev):\(st.st_ino)"
            if st.st_nlink > 1, bsys_is_dir(st.st_mode) == 0, let first = links[key] {
                let linked = first.withCName { from in name.withCName { to in linkat(AT_FDCWD, from, target, to, 0) } }
                if linked == 0 { continue }
            }
            if bsys_is_reg(st.st_mode) != 0 {
                try copyFile(source, target, name, st, path: childPath)
            } else if bsys_is_lnk(st.st_mode) != 0 {
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = try name.withCName { nm in try syscall("readlink", display(childPath)) { readlinkat(source, nm, &buffer, Int(PATH_MAX)) } }
                buffer[n] = 0
                try name.withCName { nm in try syscall("symlink", display(childPath)) { symlinkat(buffer, target, nm) } }
                let (uid, gid) = owner(st.st_uid, st.st_gid)
                _ = name.withCName { fchownat(target, $0, uid, gid, AT_SYMLINK_NOFOLLOW) }
                var times = [st.st_atim, st.st_mtim]
                _ = name.withCName { utimensat(target, $0, &times, AT_SYMLINK_NOFOLLOW) }
            } else {
                try name.withCName { n in try syscall("mknod", display(childPath)) { mknodat(target, n, st.st_mode, st.st_rdev) } }
                let (uid, gid) = owner(st.st_uid, st.st_gid)
                _ = name.withCName { fchownat(target, $0, uid, gid, AT_SYMLINK_NOFOLLOW) }
                _ = name.withCName { fchmodat(target, $0, st.st_mode & 0o7777, 0) }
            }
            if st.st_nlink > 1 { links[key] = try targetPath(target, name) }
        }
    }

    private func targetPath(_ directory: Int32, _ name: [UInt8]) throws -> [UInt8] {
        let base = try FileSystem.readLink("/proc/self/fd/\(directory)")
        return Array(base.utf8) + [47] + name
    }

    private func copyFile(_ source: Int32, _ target: Int32, _ name: [UInt8], _ st: stat, path: [UInt8]) throws {
        let input = try name.withCName { n in try syscall("open", display(path)) { bsys_openat(source, n, O_RDONLY | O_NOFOLLOW, 0) } }
        defer { close(input) }
        let output = try name.withCName { n in try syscall("create", display(path)) { bsys_openat(target, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600) } }
        defer { close(output) }
        if bsys_ficlone(output, input) != 0 {
            var remaining = Int(st.st_size)
            while remaining > 0 {
                let n = bsys_copy_file_range(input, output, remaining)
                if n > 0 { remaining -= n; continue }
                if n == 0 { break }
                if errno == EINTR { continue }
                // copy_file_range refused (across filesystems on old kernels): plain copy.
                try plainCopy(input, output, path: path)
                break
            }
        }
        try copyMetadata(from: input, to: output, path: display(path))
    }

    private func plainCopy(_ input: Int32, _ output: Int32, path: [UInt8]) throws {
        lseek(input, 0, SEEK_SET)
        lseek(output, 0, SEEK_SET)
        ftruncate(output, 0)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buffer.withUnsafeMutableBytes { raw in try syscall("read", display(path)) { read(input, raw.baseAddress, raw.count) } }
            if n == 0 { return }
            try buffer.withUnsafeBytes { raw in
                var done = 0
                while done < n { done += try syscall("write", display(path)) { write(output, raw.baseAddress! + done, n - done) } }
            }
        }
    }

    /// Owner first (chown clears setuid and capabilities), then mode, then
    /// extended attributes, then times.
    private func copyMetadata(from source: Int32, to target: Int32, path: String) throws {
        var st = stat()
        try syscall("stat", path) { fstat(source, &st) }
        let (uid, gid) = owner(st.st_uid, st.st_gid)
        try syscall("chown", path) { fchown(target, uid, gid) }
        try syscall("chmod", path) { fchmod(target, st.st_mode & 0o7777) }
        let size = bsys_flistxattr(source, nil, 0)
        if size > 0 {
            var list = [CChar](repeating: 0, count: size)
            let got = bsys_flistxattr(source, &list, size)
            if got > 0 {
                for raw in list[0..<got].split(separator: 0) {
                    let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if case .apply = whiteouts, name.hasPrefix("user.overlay.") { continue }
                    var value = [UInt8](repeating: 0, count: 65536)
                    let length = bsys_fgetxattr(source, name, &value, value.count)
                    if length >= 0 { _ = bsys_fsetxattr(target, name, value, length) }
                }
            }
        }
        var times = [st.st_atim, st.st_mtim]
        futimens(target, &times)
    }

    private func removeEntry(_ directory: Int32, _ name: [UInt8], path: [UInt8]) throws {
        var st = stat()
        guard name.withCName({ fstatat(directory, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else { return }
        if bsys_is_dir(st.st_mode) != 0 {
            try FileSystem.removeTree("/proc/self/fd/\(directory)/" + String(decoding: name, as: UTF8.self))
        } else {
            try name.withCName { n in try syscall("unlink", display(path)) { unlinkat(directory, n, 0) } }
        }
    }
}
