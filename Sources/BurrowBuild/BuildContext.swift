import BurrowDockerfile
import BurrowSystem
import CBurrowSys
import Glibc

/// The build context as COPY and ADD see it: a directory on the host, less
/// what .dockerignore leaves out. Finds what a source pattern names and
/// hashes its content for the step cache: names, kinds, modes, bytes and
/// link texts, never times or the context's own path.
public struct BuildContext {
    public let directory: String
    public let ignore: DockerIgnore
    public let ignoreText: String

    /// As BuildKit, FILE.dockerignore beside the Dockerfile FILE is read in
    /// preference to the context's .dockerignore.
    public init(directory: String, dockerfile: String? = nil) throws {
        // Canonical: what a descriptor's /proc/self/fd link says is compared with it.
        self.directory = Glibc.realpath(directory, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? directory
        let beside = dockerfile.flatMap { try? FileSystem.readText("\($0).dockerignore") }
        ignoreText = beside ?? (try? FileSystem.readText("\(directory)/.dockerignore")) ?? ""
        ignore = DockerIgnore(ignoreText)
    }

    /// A source as written, relative to the context (a leading `/` or `..` never leaves it).
    static func clean(_ source: String) -> String {
        var parts: [Substring] = []
        for part in source.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    /// The context paths a source names: itself, or what its wildcards
    /// match; what .dockerignore leaves out is not there. "" is the context itself.
    public func resolve(_ source: String) throws -> [String] {
        let cleaned = BuildContext.clean(source)
        let pattern = PathPattern(cleaned)
        if !pattern.hasWildcards {
            var st = stat()
            guard lstat(path(cleaned), &st) == 0, cleaned.isEmpty || !ignore.excludes(cleaned) else { return [] }
            return [cleaned]
        }
        var found: [String] = []
        walk("") { relative, _ in
            if pattern.matches(relative) && !ignore.excludes(relative) { found.append(relative) }
        }
        return found.sorted()
    }

    func path(_ relative: String) -> String { relative.isEmpty ? directory : "\(directory)/\(relative)" }

    /// Every path below `relative` (not itself), parents first, in name order.
    func walk(_ relative: String, _ body: (String, stat) -> Void) {
        guard let names = try? FileSystem.entries(of: path(relative)) else { return }
        for name in names.sorted() {
            let child = relative.isEmpty ? name : "\(relative)/\(name)"
            var st = stat()
            guard lstat(path(child), &st) == 0 else { continue }
            body(child, st)
            if (st.st_mode & S_IFMT) == S_IFDIR, !ignore.excludes(child) || ignore.mayIncludeBelow(child) { walk(child, body) }
        }
    }

    /// An O_PATH descriptor of `relative` under `root`, its symlinks
    /// followed as BuildKit follows them: inside the root, never out of it
    /// (a context's `key -> ~/.ssh/id_rsa` names the context's own /home/...).
    public static func open(_ relative: String, in root: String) throws -> Int32 {
        let top = try syscall("open", root) { bsys_openat(AT_FDCWD, root, BSYS_O_PATH | O_DIRECTORY, 0) }
        defer { close(top) }
        let name = relative.isEmpty ? "." : relative
        return try syscall("open", "\(root)/\(relative)") {
            bsys_openat2(top, name, UInt64(BSYS_O_PATH | O_CLOEXEC), 0, UInt64(BSYS_RESOLVE_IN_ROOT | BSYS_RESOLVE_NO_MAGICLINKS))
        }
    }

    /// The content of the sources, for the cache key.
    public func hash(_ sources: [String]) throws -> String {
        let hasher = SHA256Hasher()
        func add(_ file: String, _ name: String, _ st: stat) throws {
            hasher.update(Array("\(name)\u{0}\(st.st_mode)\u{0}".utf8))
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                let fd = try syscall("open", file) { Glibc.open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
                defer { close(fd) }
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let n = try buffer.withUnsafeMutableBytes { raw in try syscall("read", file) { read(fd, raw.baseAddress, raw.count) } }
                    if n == 0 { break }
                    buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                }
            case S_IFLNK:
                hasher.update(Array(((try? FileSystem.readLink(file)) ?? "").utf8))
            default:
                break
            }
            hasher.update([0])
        }
        for source in sources {
            // COPY follows a symlink named as the source, inside the context.
            let fd = try BuildContext.open(source, in: directory)
            defer { close(fd) }
            var st = stat()
            try syscall("stat", source) { fstat(fd, &st) }
            let real = try FileSystem.readLink("/proc/self/fd/\(fd)")
            try add(real, source, st)
            if (st.st_mode & S_IFMT) == S_IFDIR {
                var failure: Error? = nil
                let inside = real == directory ? "" : String(real.dropFirst(directory.count + 1))
                walk(inside) { relative, st in
                    let named = source.isEmpty ? relative : source + relative.dropFirst(inside.count)
                    if failure != nil || ignore.excludes(named) { return }
                    do { try add(path(relative), named, st) } catch { failure = error }
                }
                if let failure { throw failure }
            }
        }
        return hasher.finish()
    }

    /// Whether a file is a tar archive, plain or compressed, that ADD unpacks.
    public func isArchive(_ relative: String) -> Bool {
        guard let found = try? BuildContext.open(relative, in: directory) else { return false }
        defer { close(found) }
        var st = stat()
        guard fstat(found, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        let fd = Glibc.open("/proc/self/fd/\(found)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 512)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, 512) }
        guard n >= 4 else { return false }
        let magics: [[UInt8]] = [[0x1f, 0x8b], [0x42, 0x5a, 0x68], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], [0x28, 0xb5, 0x2f, 0xfd]]
        if magics.contains(where: { Array(head.prefix($0.count)) == $0 }) { return true }
        return n >= 262 && Array(head[257..<262]) == Array("ustar".utf8)
    }
}
