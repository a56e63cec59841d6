import Glibc

/// A failed system call: the call, the path it worked on, and errno, printed
/// as "mount overlay on /: Operation not permitted".
public struct SystemError: Error, Equatable, CustomStringConvertible, Sendable {
    public let call: String
    public let path: String?
    public let errno: Int32

    public init(_ call: String, path: String? = nil, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var reason: String { String(cString: strerror(errno)) }

    public var description: String {
        if let path { return "\(call) \(path): \(reason)" }
        return "\(call): \(reason)"
    }
}
