import Glibc

/// Seconds and nanoseconds, as stat and utimensat have them.
public struct FileTime: Sendable, Equatable {
    public let seconds: Int64
    public let nanoseconds: Int

    public init(seconds: Int64, nanoseconds: Int = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

extension timespec {
    init(_ time: FileTime) {
        self.init(tv_sec: Int(time.seconds), tv_nsec: time.nanoseconds)
    }
}
