import CBurrowSys
import Glibc

/// Whole-file and whole-tree operations on host paths.
public enum FileSystem {
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && bsys_is_dir(st.st_mode) != 0
    }

    /// `path` from the working directory when it is relative.
    public static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/"), let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        let base = String(cString: cwd)
        return path.isEmpty || path == "." ? base : (base == "/" ? "" : base) + "/" + path
    }

    /// The bytes the files below `path` take on disk; what cannot be read counts nothing.
    public static func treeSize(_ path: String) -> Int64 {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        var total = Int64(st.st_blocks) * 512
        if bsys_is_dir(st.st_mode) != 0, let names = try? entries(of: path) {
            for name in names { total += treeSize("\(path)/\(name)") }
        }
        return total
    }

    /// nil when nothing is there.
    public static func linkStatus(_ path: String) throws -> stat? {
        var st = stat()
        switch syscallResult({ lstat(path, &st) }) {
        case .success: return st
        case .failure(let error) where error == ENOENT || error == ENOTDIR: return nil
        case .failure(let error): throw SystemError("stat", path: path, errno: error)
        }
    }

    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try FileDescriptor.open(path, O_RDONLY)
        return try fd.readToEnd(path: path)
    }

    /// nil when the file does not exist.
    public static func readFileIfPresent(_ path: String) throws -> [UInt8]? {
        do {
            return try readFile(path)
        } catch let error as SystemError where error.errno == ENOENT || error.errno == ENOTDIR {
            return nil
        }
    }

    public static func readText(_ path: String) throws -> String {
        String(decoding: try readFile(path), as: UTF8.self)
    }

    /// Writes beside the target and renames over it, so a reader sees the old
    /// file or the new one, never half of one. `durable` adds fsync for
    /// records that must survive a power cut.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, durable: Bool = false) throws {
        let temporary = "\(path).tmp-\(getpid())"
        do {
            let fd = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
            try fd.writeAll(bytes, path: temporary)
            if durable { try fd.sync(path: temporary) }
        } catch {
            unlink(temporary)
            throw error
        }
        do {
            try syscall("rename", path) { Glibc.rename(temporary, path) }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    public static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        try fd.writeAll(bytes, path: path)
    }

    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws {
        switch syscallResult({ mkdir(path, mode) }) {
        case .success: return
        case .failure(let error) where error == EEXIST && isDirectory(path): return
        case .failure(let error): throw SystemError("mkdir", path: path, errno: error)
        }
    }

    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if isDirectory(path) { return }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectories(String(path[..<slash]), mode: mode)
        }
        try makeDirectory(path, mode: mode)
    }

    public static func rename(_ from: String, to: String) throws {
        try syscall("rename", from) { Glibc.rename(from, to) }
    }

    /// false when the destination already exists.
    public static func renameNoReplace(_ from: String, to: String) throws -> Bool {
        switch syscallResult({ bsys_renameat2(AT_FDCWD, from, AT_FDCWD, to, UInt32(BSYS_RENAME_NOREPLACE)) }) {
        case .success: return true
        case .failure(let error) where error == EEXIST || error == ENOTEMPTY: return false
        case .failure(let error): throw SystemError("rename", path: to, errno: error)
        }
    }

    public static func remove(_ path: String) throws {
        switch syscallResult({ unlink(path) }) {
        case .success: return
        case .failure(let error) where error == ENOENT: return
        case .failure(let error): throw SystemError("unlink", path: path, errno: error)
        }
    }

    public static func entries(of directory: String) throws -> [String] {
        guard let dir = opendir(directory) else {
            throw SystemError("opendir", path: directory, errno: bsys_errno())
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// nil when the directory does not exist.
    public static func entriesIfPresent(of directory: String) throws -> [String]? {
        do {
            return try entries(of: directory)
        } catch let error as SystemError where error.errno == ENOENT {
            return nil
        }
    }

    public static func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = try syscall("readlink", path) { readlink(path, &buffer, Int(PATH_MAX)) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Removes a whole tree without following a symlink. Directories the
    /// owner made unwritable are opened up first; anything else that refuses
    /// (files of another owner) is reported with its path.
    public static func removeTree(_ path: String) throws {
        guard let st = try linkStatus(path) else { return }
        if bsys_is_dir(st.st_mode) == 0 {
            try syscall("unlink", path) { unlink(path) }
            return
        }
        let fd = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        try emptyDirectory(fd.release(), path: path)
        switch syscallResult({ rmdir(path) }) {
        case .success: return
        case .failure(let error) where error == ENOENT: return
        case .failure(let error): throw SystemError("rmdir", path: path, errno: error)
        }
    }

    /// Takes ownership of `fd`.
    private static func emptyDirectory(_ fd: Int32, path: String) throws {
        guard let dir = fdopendir(fd) else {
            let error = bsys_errno()
            close(fd)
            throw SystemError("opendir", path: path, errno: error)
        }
        defer { closedir(dir) }
        var opened = false
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                var st = stat()
                if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { isDirectory = bsys_is_dir(st.st_mode) != 0 }
            }
            if isDirectory {
                var childFD = bsys_openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0)
                if childFD < 0 && bsys_errno() == EACCES {
                    // A directory its owner made unreadable: open it up and try again.
                    fchmodat(fd, name, 0o700, 0)
                    childFD = bsys_openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0)
                }
                if childFD < 0 { throw SystemError("open", path: child, errno: bsys_errno()) }
                try emptyDirectory(childFD, path: child)
            }
            let flags = isDirectory ? AT_REMOVEDIR : 0
            if unlinkat(fd, name, flags) == 0 { continue }
            var error = bsys_errno()
            if error == EACCES && !opened {
                fchmod(fd, 0o700)
                opened = true
                if unlinkat(fd, name, flags) == 0 { continue }
                error = bsys_errno()
            }
            if error == ENOENT { continue }
            throw SystemError(isDirectory ? "rmdir" : "unlink", path: child, errno: error)
        }
    }
}
