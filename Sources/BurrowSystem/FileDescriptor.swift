import CBurrowSys
import Glibc

/// An open file descriptor, closed when the value goes away.
public struct FileDescriptor: ~Copyable {
    public let rawValue: Int32

    public init(adopting rawValue: Int32) { self.rawValue = rawValue }

    deinit { Glibc.close(rawValue) }

    /// Hands the descriptor over: it will not be closed here.
    public consuming func release() -> Int32 {
        let value = rawValue
        discard self
        return value
    }

    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> FileDescriptor {
        let fd = try syscall("open", path) { bsys_openat(AT_FDCWD, path, flags, UInt32(mode)) }
        return FileDescriptor(adopting: fd)
    }

    public func openAt(_ name: String, _ flags: Int32, mode: mode_t = 0o644, displayPath: String? = nil) throws -> FileDescriptor {
        let fd = try syscall("open", displayPath ?? name) { bsys_openat(rawValue, name, flags, UInt32(mode)) }
        return FileDescriptor(adopting: fd)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try syscall("read") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        try syscall("read") { Glibc.pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    public func writeAll(_ bytes: UnsafeRawBufferPointer, path: String? = nil) throws {
        var offset = 0
        while offset < bytes.count {
            let n = try syscall("write", path) { Glibc.write(rawValue, bytes.baseAddress! + offset, bytes.count - offset) }
            offset += n
        }
    }

    public func writeAll(_ bytes: [UInt8], path: String? = nil) throws {
        try bytes.withUnsafeBytes { (buffer) throws in try writeAll(buffer, path: path) }
    }

    public func readToEnd(path: String? = nil) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try chunk.withUnsafeMutableBytes { (buffer) throws in
                try syscall("read", path) { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
            }
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
        }
    }

    public func status(path: String? = nil) throws -> stat {
        var st = stat()
        try syscall("stat", path) { fstat(rawValue, &st) }
        return st
    }

    public func sync(path: String? = nil) throws {
        try syscall("fsync", path) { fsync(rawValue) }
    }
}
