import BurrowSystem
import Glibc

/// A container's own cgroup, holding its limits: made before the
/// container's first process is cloned (straight into it, see
/// `Launcher.clone(_:cgroup:)`), removed once the container has ended.
///
/// Layout, in the cgroup this process runs in (O), which must be delegated
/// to the user (writable, with the controllers in its cgroup.controllers):
///
///     O/                          cgroup.subtree_control gets +memory +pids ... (only those asked for)
///     O/burrow-launcher/          this burrow process and its own children, moved out of O
///     O/burrow-<container id>/    memory.max, memory.swap.max, cpu.max, cpu.weight, cpuset.cpus, pids.max
///
/// The kernel enables a controller for the cgroups below O only while no
/// process sits in O itself ("no internal processes"), so before the first
/// container with limits, burrow moves itself (and its own children) into a
/// leaf of its own, as systemd asks of a process in a delegated unit. It
/// never moves anyone else's processes: when O holds others (a shell
/// started in the scope), the limit is refused with the fix, before
/// anything is created. O itself is never written but for its
/// subtree_control; burrow-launcher stays (burrow cannot remove the cgroup
/// it is in; systemd removes it with the scope).
public final class ContainerCgroup: @unchecked Sendable {
    /// The container's cgroup directory.
    public let path: String
    /// An open descriptor of `path`, for `Launcher.clone(_:cgroup:)`; valid until `remove()`.
    public private(set) var directoryFD: Int32
    /// Notes for the user, one line each (memory limited without swap).
    public let warnings: [String]
    private let host: CgroupHost
    private var removed = false

    /// The leaf this process moves to so that controllers can be enabled in its own cgroup.
    public static let launcherLeaf = "burrow-launcher"

    public static func name(containerID: String) -> String { "burrow-\(containerID)" }

    private init(path: String, directoryFD: Int32, warnings: [String], host: CgroupHost) {
        self.path = path
        self.directoryFD = directoryFD
        self.warnings = warnings
        self.host = host
    }

    deinit {
        if directoryFD >= 0 { close(directoryFD) }
    }

    /// Makes the container's cgroup with its limits written, or returns nil
    /// without reading or writing any cgroup file when `limits` asks for no
    /// cgroup limit. A limit this host cannot give throws
    /// BurrowError.unsupported (exit 125) before anything is created;
    /// `host` is the real one unless a test gives its own.
    public static func prepare(limits: ResourceLimits, containerID: String, host: CgroupHost? = nil) throws -> ContainerCgroup? {
        let needs = limits.controllerNeeds
        guard !needs.isEmpty else { return nil }
        let host = host ?? CgroupHost.current()
        let delegation = CgroupDelegation.detect(host)
        try delegation.check(needs)
        guard let parent = delegation.directory else { preconditionFailure("a delegation without a directory passed its check") }

        if let cpus = limits.cpusetCPUs, let wanted = ResourceLimits.cpuList(cpus) {
            let effective = ((try? FileSystem.readText("\(parent)/cpuset.cpus.effective")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if let available = ResourceLimits.cpuList(effective), !wanted.isSubset(of: available) {
                throw BurrowError.invalidArgument("Requested CPUs are not available - requested \(cpus), available: \(effective)")
            }
        }
        // Swap is accounted when the kernel gives memory cgroups a
        // memory.swap.max; the root cgroup has none either way, so below it
        // the answer waits for the container's own cgroup.
        var files: [(file: String, value: String)]? = nil
        var swapAccounting = false
        if !delegation.isRoot {
            swapAccounting = FileSystem.exists("\(parent)/memory.swap.max")
            files = try limits.cgroupFiles(swapAccounting: swapAccounting)
        }

        try enable(needs.map(\.controller), in: delegation, host: host)
        let path = "\(parent)/\(name(containerID: containerID))"
        do {
            try host.makeCgroup(path)
        } catch let error as SystemError {
            throw SystemError("create the container's cgroup", path: path, errno: error.errno)
        }
        do {
            if files == nil {
                swapAccounting = FileSystem.exists("\(path)/memory.swap.max")
                files = try limits.cgroupFiles(swapAccounting: swapAccounting)
            }
            for (file, value) in files ?? [] { try write(value, to: "\(path)/\(file)") }
            let fd = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC).release()
            var warnings: [String] = []
            if limits.memory != nil && limits.memorySwap == nil && !swapAccounting {
                warnings.append("the kernel does not account swap in cgroups (there is no memory.swap.max): memory is limited, swap is not")
            }
            return ContainerCgroup(path: path, directoryFD: fd, warnings: warnings, host: host)
        } catch {
            _ = host.removeCgroup(path)
            throw error
        }
    }

    /// Enables `controllers` for the cgroups below the own one, moving this
    /// process and its own children into the launcher leaf first when they
    /// are in the own cgroup (the delegation check refused anyone else's).
    static func enable(_ controllers: [String], in delegation: CgroupDelegation, host: CgroupHost) throws {
        guard let directory = delegation.directory else { return }
        var seen = Set<String>()
        let wanted = controllers.filter { seen.insert($0).inserted }
        guard wanted.contains(where: { !delegation.enabled.contains($0) }) else { return }
        if !delegation.isRoot && !delegation.ours.isEmpty {
            let leaf = "\(directory)/\(launcherLeaf)"
            do {
                try host.makeCgroup(leaf)
            } catch let error as SystemError where error.errno == EEXIST {
            } catch let error as SystemError {
                throw SystemError("create a cgroup for burrow itself", path: leaf, errno: error.errno)
            }
            for pid in delegation.ours {
                do {
                    try write(String(pid), to: "\(leaf)/cgroup.procs")
                } catch let error as SystemError where error.errno == ESRCH && pid != host.pid {
                    // A child of ours that has ended meanwhile.
                }
            }
        }
        // "+memory" for a controller already enabled changes nothing.
        try write(wanted.map { "+\($0)" }.joined(separator: " "), to: "\(directory)/cgroup.subtree_control")
    }

    /// One write, as the kernel wants a cgroup file written.
    static func write(_ value: String, to path: String) throws {
        do {
            let fd = try FileDescriptor.open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
            try fd.writeAll(Array(value.utf8), path: path)
        } catch let error as SystemError {
            throw SystemError("write \(value) to", path: path, errno: error.errno)
        }
    }

    /// Removes the cgroup once the container has ended. A process still in
    /// it (none should be: the container's PID namespace ends with its
    /// first process) is killed. Calling it again does nothing.
    public func remove() throws {
        if directoryFD >= 0 {
            close(directoryFD)
            directoryFD = -1
        }
        guard !removed else { return }
        try ContainerCgroup.remove(path: path, host: host)
        removed = true
    }

    /// Removes a container's cgroup by its path (one a crashed run left, say).
    public static func remove(path: String, host: CgroupHost? = nil) throws {
        let host = host ?? CgroupHost.current()
        // An ended process leaves its cgroup a moment after its parent has
        // reaped it: a few short retries (runc waits the same way).
        var delay: useconds_t = 1000
        for attempt in 0..<12 {
            let error = host.removeCgroup(path)
            if error == 0 || error == ENOENT { return }
            guard error == EBUSY else { throw SystemError("remove the container's cgroup", path: path, errno: error) }
            if attempt == 3 { killRemaining(path) }
            usleep(delay)
            delay = min(delay * 2, 100_000)
        }
        throw SystemError("remove the container's cgroup", path: path, errno: EBUSY)
    }

    private static func killRemaining(_ path: String) {
        if FileSystem.exists("\(path)/cgroup.kill"), (try? write("1", to: "\(path)/cgroup.kill")) != nil { return }
        for pid in CgroupDelegation.words("\(path)/cgroup.procs").compactMap({ Int32($0) }) where pid > 0 {
            kill(pid, SIGKILL)
        }
    }
}
