import BurrowSystem
import CBurrowSys
import Glibc

/// Moves a file's bytes from one descriptor to another.
enum CopyData {
    /// To the end of `input`: copy_file_range where the kernel can, read and write otherwise.
    static func copy(from input: Int32, to output: Int32, display: String) throws {
        while true {
            let n = bsys_copy_file_range(input, output, 1 << 30)
            if n > 0 { continue }
            if n == 0 { return }
            let error = errno
            if error == EINTR { continue }
            if error == EXDEV || error == EINVAL || error == ENOSYS || error == EOPNOTSUPP || error == EPERM { break }
            throw SystemError("copy", path: display, errno: error)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try syscall("read", display) { read(input, buffer.baseAddress, buffer.count) }
            if n == 0 { return }
            var done = 0
            while done < n { done += try syscall("write", display) { write(output, buffer.baseAddress! + done, n - done) } }
        }
    }
}
