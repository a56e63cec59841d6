import BurrowSystem
import CBurrowSys
import Glibc

/// Paths on the host, used as the user wrote them.
public enum HostTree {
    public static func openSource(_ path: HostPath, follow: Bool) throws -> Int32 {
        let fd = bsys_openat(AT_FDCWD, path.text, BSYS_O_PATH | (follow ? 0 : O_NOFOLLOW), 0)
        guard fd >= 0 else {
            let error = errno
            if error == ENOENT { throw BurrowError.notFound("no such file or directory: \(path)") }
            throw SystemError("open", path: path.text, errno: error)
        }
        return fd
    }

    /// Where DEST leads, as Docker finds it: a symlink at DEST is followed,
    /// and when nothing is there its directory must be.
    public static func resolveDestination(_ path: HostPath) throws -> (path: HostPath, found: CopyRules.Destination) {
        var current = path
        for _ in 0...10 {
            var st = stat()
            switch syscallResult({ lstat(current.text, &st) }) {
            case .success:
                if bsys_is_lnk(st.st_mode) != 0 {
                    current = current.following(link: try FileSystem.readLink(current.text))
                    continue
                }
                return (current, bsys_is_dir(st.st_mode) != 0 ? .directory : .other)
            case .failure(ENOENT):
                guard FileSystem.isDirectory(current.directory) else {
                    throw BurrowError.notFound("cannot copy to \(path): the directory \(current.directory) does not exist")
                }
                return (current, .missing)
            case .failure(ENOTDIR):
                if current.assertsDirectory, let parent = try? FileSystem.linkStatus(current.cleaned), bsys_is_dir(parent.st_mode) == 0 {
                    return (current, .other)
                }
                throw BurrowError.notFound("cannot copy to \(path): a component of the path is not a directory")
            case .failure(let error):
                throw SystemError("stat", path: current.text, errno: error)
            }
        }
        throw BurrowError.invalidArgument("cannot copy to \(path): too many levels of symbolic links")
    }
}
