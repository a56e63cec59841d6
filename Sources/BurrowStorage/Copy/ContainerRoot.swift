import BurrowArchive
import BurrowOCI
import BurrowStore
import BurrowSystem
import CBurrowSys
import Glibc

/// A container's root filesystem, opened for `burrow cp`, and how owners
/// look from where it was opened.
public final class ContainerRoot {
    /// An O_PATH descriptor of the root directory.
    public let fd: Int32
    public let identities: CopyIdentities

    init(fd: Int32, identities: CopyIdentities) {
        self.fd = fd
        self.identities = identities
    }

    deinit { close(fd) }

    /// A running container, through its first process. This process joins
    /// the container's user namespace first: as root there it may open
    /// /proc/PID/root whichever user the container's processes run as, and it
    /// sees owners exactly as the container does (keep-id included). The
    /// user may join it: a user namespace's owner has every capability in it.
    /// Writes land in the container's upper layer, through its own mount.
    ///
    /// nil when `pid` is not the container's any more (it exited, and the pid
    /// may belong to another process now), found before anything changed
    /// here. Call with a single thread.
    public static func running(pid: Int32, id: String, host: HostUser) throws -> ContainerRoot? {
        // Every later step goes through this descriptor: if the process dies,
        // they fail, even when its pid is given to another process meanwhile.
        let process = Glibc.open("/proc/\(pid)", BSYS_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if process < 0 { return nil }
        defer { close(process) }
        guard isContainer(process, id: id) else { return nil }
        let namespace = openat(process, "ns/user", O_RDONLY | O_CLOEXEC)
        if namespace < 0 {
            if errno == ENOENT || errno == ESRCH { return nil }
            throw SystemError("open", path: "/proc/\(pid)/ns/user", errno: errno)
        }
        defer { close(namespace) }
        if !isCurrentNamespace(namespace) {
            guard threadCount() == 1 else {
                throw BurrowError.engine("cannot join the container's user namespace: burrow is running more than one thread")
            }
            try syscall("setns", "the container's user namespace") { bsys_setns_user(namespace) }
        }
        let root = openat(process, "root", BSYS_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if root < 0 {
            // Too late to go the stopped container's way: this process is in its namespace now.
            if errno == ENOENT || errno == ESRCH {
                throw BurrowError.conflict("the container exited while burrow cp was reaching it: run the command again")
            }
            throw SystemError("open", path: "/proc/\(pid)/root", errno: errno)
        }
        let uidMap = (try? FileSystem.readText("/proc/self/uid_map")) ?? ""
        let gidMap = (try? FileSystem.readText("/proc/self/gid_map")) ?? ""
        let caller = (CopyIdentities.inside(of: host.uid, map: uidMap) ?? 0, CopyIdentities.inside(of: host.gid, map: gidMap) ?? 0)
        return ContainerRoot(fd: root, identities: CopyIdentities(mapped: .currentNamespace(), caller: caller))
    }

    /// A container that does not run. Its overlay is mounted on its merged/
    /// directory in this process's mount namespace, which must be its own
    /// (a burrow run again by UserNamespaceHelper has one, and is root in
    /// its user namespace); it goes away with the process. A vfs container's
    /// directory is opened as it is. Hold the container's lock meanwhile:
    /// the same upper directory must never be mounted twice at once.
    ///
    /// `keepID` are the ids a keep-id container's layers traded with root.
    public static func stopped(_ filesystem: ContainerFilesystem, layers: [Digest], keepID: (uid: UInt32, gid: UInt32)?) throws -> ContainerRoot {
        if filesystem.driver == .overlay {
            try mountOverlay(filesystem, layers: layers)
        }
        let path = filesystem.rootPath
        let fd = try syscall("open", path) { bsys_openat(AT_FDCWD, path, BSYS_O_PATH | O_DIRECTORY | O_NOFOLLOW, 0) }
        // UserNamespaceHelper maps the user to root.
        let identities = CopyIdentities(mapped: .currentNamespace(), caller: (0, 0), swapped: keepID)
        return ContainerRoot(fd: fd, identities: identities)
    }

    static func mountOverlay(_ filesystem: ContainerFilesystem, layers: [Digest]) throws {
        // Nothing mounted here may reach the namespace this one was copied from.
        try syscall("make mounts private") { Glibc.mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) }
        let options = try filesystem.overlayOptions(layers: layers)
        // The options name the layers relative to the store (as the launch
        // does): shorter, and free of the commas a store path may hold.
        let here = try syscall("open", ".") { bsys_openat(AT_FDCWD, ".", BSYS_O_PATH | O_DIRECTORY, 0) }
        defer {
            fchdir(here)
            close(here)
        }
        try syscall("chdir", filesystem.layout.root) { chdir(filesystem.layout.root) }
        let target = "containers/\(filesystem.id)/merged"
        try syscall("mount overlay on", filesystem.rootPath) {
            Glibc.mount("overlay", target, "overlay", UInt(MS_NOSUID | MS_NODEV), options)
        }
    }

    /// Whether `pid` is the running first process of container `id` (and
    /// not another process that got its pid after the container exited).
    public static func isRunning(pid: Int32, id: String) -> Bool {
        let process = Glibc.open("/proc/\(pid)", BSYS_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if process < 0 { return false }
        defer { close(process) }
        return isContainer(process, id: id)
    }

    /// Whether the process behind `process` (a /proc/PID descriptor) has
    /// this container's root filesystem as its root mount.
    static func isContainer(_ process: Int32, id: String) -> Bool {
        let fd = openat(process, "mountinfo", O_RDONLY | O_CLOEXEC)
        if fd < 0 { return false }
        let owned = FileDescriptor(adopting: fd)
        guard let text = try? owned.readToEnd() else { return false }
        return isContainerMountInfo(String(decoding: text, as: UTF8.self), id: id)
    }

    /// The root mount names the container's directory: the overlay's upper
    /// directory, or the vfs root bound onto itself.
    public static func isContainerMountInfo(_ text: String, id: String) -> Bool {
        text.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4] == "/" && line.contains("containers/\(id)/")
        }
    }

    static func isCurrentNamespace(_ fd: Int32) -> Bool {
        var theirs = stat()
        var ours = stat()
        guard fstat(fd, &theirs) == 0, stat("/proc/self/ns/user", &ours) == 0 else { return false }
        return theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino
    }

    static func threadCount() -> Int {
        guard let status = try? FileSystem.readText("/proc/self/status") else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("Threads:") {
            return Int(String(line.dropFirst(8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        return 0
    }
}
