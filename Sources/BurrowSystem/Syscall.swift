import CBurrowSys
import Glibc

/// The one seam every system call goes through: retries EINTR and turns -1
/// into a SystemError naming the call and the path.
@discardableResult
@inline(__always)
public func syscall<T: FixedWidthInteger>(_ call: String, _ path: String? = nil, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = bsys_errno()
        if error == EINTR { continue }
        throw SystemError(call, path: path, errno: error)
    }
}

/// The same, for calls whose failure is one of the answers (ENOENT for "not there").
@inline(__always)
public func syscallResult<T: FixedWidthInteger>(_ body: () -> T) -> SyscallResult<T> {
    while true {
        let result = body()
        if result != -1 { return .success(result) }
        let error = bsys_errno()
        if error == EINTR { continue }
        return .failure(error)
    }
}

public enum SyscallResult<T> {
    case success(T)
    case failure(Int32)
}
