import CBurrowSys
import Glibc

/// Unix stream sockets by path and in pairs, close-on-exec.
public enum UnixSocket {
    /// Listens at `directory/name`, private to the user.
    public static func listen(directory: String, name: String) throws -> Int32 {
        try syscall("listen on", "\(directory)/\(name)") { bsys_unix_listen(directory, name) }
    }

    public static func connect(path: String) throws -> Int32 {
        let slash = path.lastIndex(of: "/") ?? path.startIndex
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        return try syscall("connect to", path) { bsys_unix_connect(directory, name) }
    }

    public static func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        try syscall("socketpair") { bsys_socketpair(&fds) }
        return (fds[0], fds[1])
    }

    public static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        try syscall("pipe2") { bsys_pipe(&fds) }
        return (fds[0], fds[1])
    }
}
