import BurrowArchive
import BurrowSystem
import CBurrowSys
import Glibc

/// Paths in a container, resolved from a descriptor of its root and never
/// by joining strings: `..` and absolute symlinks stop at the root, and no
/// mount inside the container is entered.
public struct ContainerTree {
    /// Borrowed: an O_PATH descriptor of the container's root directory.
    public let root: Int32
    /// The container as the user named it, for messages.
    public let name: String

    public init(root: Int32, name: String) {
        self.root = root
        self.name = name
    }

    public func describe(_ path: ContainerPath) -> String { "\(name):\(path)" }

    func open(_ path: ContainerPath, flags: Int32) -> Int32 {
        let member = MemberPath(components: path.components.map { Array($0.utf8) })
        return member.withCString { bsys_openat2(root, $0, UInt64(flags), 0, Resolve.inContainer) }
    }

    /// What SRC names: the path itself, or with `follow` what its symlink
    /// leads to (inside the container). An O_PATH descriptor.
    public func openSource(_ path: ContainerPath, follow: Bool) throws -> Int32 {
        let fd = open(path, flags: BSYS_O_PATH | (follow ? 0 : O_NOFOLLOW))
        guard fd >= 0 else { throw failure(errno, path) }
        return fd
    }

    /// Where DEST leads, as Docker finds it: a symlink at DEST is followed
    /// (inside the container), and when nothing is there its directory must be.
    public func resolveDestination(_ path: ContainerPath) throws -> (path: ContainerPath, found: CopyRules.Destination) {
        var current = path
        for _ in 0...10 {
            let fd = open(current, flags: BSYS_O_PATH | O_NOFOLLOW)
            if fd < 0 {
                let error = errno
                guard error == ENOENT else { throw failure(error, current) }
                let parent = open(current.parent, flags: BSYS_O_PATH | O_DIRECTORY)
                guard parent >= 0 else {
                    throw BurrowError.notFound("cannot copy to \(describe(path)): the directory \(describe(current.parent)) does not exist in the container")
                }
                close(parent)
                return (current, .missing)
            }
            defer { close(fd) }
            var st = stat()
            try syscall("stat", describe(current)) { fstat(fd, &st) }
            if bsys_is_lnk(st.st_mode) != 0 {
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = try syscall("readlink", describe(current)) { readlinkat(fd, "", &buffer, Int(PATH_MAX)) }
                current = current.following(link: String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
                continue
            }
            return (current, bsys_is_dir(st.st_mode) != 0 ? .directory : .other)
        }
        throw BurrowError.invalidArgument("cannot copy to \(describe(path)): too many levels of symbolic links")
    }

    func failure(_ error: Int32, _ path: ContainerPath) -> Error {
        switch error {
        case ENOENT:
            return BurrowError.notFound("no such file or directory in container \(name): \(path)")
        case ENOTDIR:
            return BurrowError.notFound("\(describe(path)): a component of the path is not a directory")
        case EXDEV:
            return BurrowError.invalidArgument("\(describe(path)) is on a mount inside the container (such as /proc, /dev, /sys or the generated /etc/hosts): burrow cp reaches only the container's root filesystem")
        case ELOOP:
            return BurrowError.invalidArgument("\(describe(path)): too many levels of symbolic links")
        default:
            return SystemError("open", path: describe(path), errno: error)
        }
    }
}
