import CBurrowSys
import Glibc

/// An flock(2) held while the object lives: shared for readers, exclusive for
/// writers. The descriptor is close-on-exec, so no container inherits it.
public final class FileLock {
    private let fd: Int32

    public enum Mode: Sendable { case shared, exclusive }

    public init(path: String, mode: Mode) throws {
        fd = try syscall("open", path) { bsys_openat(AT_FDCWD, path, O_RDWR | O_CREAT, 0o600) }
        let operation = mode == .shared ? LOCK_SH : LOCK_EX
        do {
            try syscall("flock", path) { flock(fd, operation) }
        } catch {
            close(fd)
            throw error
        }
    }

    private init(holding fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// nil when another process holds the lock.
    public static func tryExclusive(path: String) throws -> FileLock? {
        let fd = try syscall("open", path) { bsys_openat(AT_FDCWD, path, O_RDWR | O_CREAT, 0o600) }
        switch syscallResult({ flock(fd, LOCK_EX | LOCK_NB) }) {
        case .success: return FileLock(holding: fd)
        case .failure(let error):
            close(fd)
            if error == EWOULDBLOCK { return nil }
            throw SystemError("flock", path: path, errno: error)
        }
    }
}
