import CBurrowSys
import Glibc

/// A helper program started with posix_spawn (never fork in a Swift
/// process), its stderr kept for the error message.
public struct Subprocess: ~Copyable {
    public let pid: pid_t
    private let stderrFD: FileDescriptor
    public let path: String

    /// Starts `path` with `arguments` (argv[0] excluded). stdin is /dev/null.
    public init(path: String, arguments: [String]) throws {
        var pipeFDs: [Int32] = [0, 0]
        try syscall("pipe2") { bsys_pipe(&pipeFDs) }
        let readEnd = FileDescriptor(adopting: pipeFDs[0])
        let writeEnd = FileDescriptor(adopting: pipeFDs[1])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd.rawValue, 2)

        let argv = ([path] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var cArgv = argv + [nil]
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, nil, &cArgv, environ)
        if rc != 0 { throw SystemError("spawn", path: path, errno: rc) }
        pid = child
        stderrFD = readEnd
        self.path = path
        _ = consume writeEnd
    }

    public struct Outcome: Sendable {
        public let status: Int32
        public let standardError: String
        public var succeeded: Bool { status == 0 }
    }

    public consuming func wait() throws -> Outcome {
        let errors = (try? stderrFD.readToEnd()) ?? []
        var status: Int32 = 0
        try syscall("waitpid", path) { waitpid(pid, &status, 0) }
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = String(decoding: errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Outcome(status: code, standardError: text)
    }

    /// The first executable called `name` in $PATH, nil when there is none.
    public static func find(_ name: String) -> String? {
        let search = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in search.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

extension String {
    public func trimmingCharacters(in set: WhitespaceSet) -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace || first.isNewline { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace || last.isNewline { view = view.dropLast() }
        return String(view)
    }
}

public enum WhitespaceSet { case whitespacesAndNewlines }
