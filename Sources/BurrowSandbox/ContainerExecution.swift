import BurrowLaunch
import BurrowStore
import BurrowSystem
import CBurrowMonitor
import CBurrowSys
import Glibc

/// `exec`: another process in a running container. This process enters the
/// container's user and pid namespaces itself, so the child it clones is
/// born in them; the child joins the rest (mount, uts, ipc, network), takes
/// the container's user, capabilities and directory, and execs.
public struct ContainerExecution {
    public let store: Store

    public init(store: Store) { self.store = store }

    public struct Options {
        public var command: [String]
        public var environment: [String] = []
        public var environmentFiles: [(path: String, text: String)] = []
        public var user: String? = nil
        public var workingDirectory: String? = nil
        public var interactive = false
        public var tty = false
        public var detach = false
        public var detachKeys: [UInt8] = []

        public init(command: [String]) { self.command = command }
    }

    static let joined: [(name: String, type: LaunchPlan.Namespace)] = [("mnt", .mount), ("uts", .uts), ("ipc", .ipc), ("net", .network)]
    static let newPID: Int32 = 0x2000_0000

    /// Runs the command and returns its exit code (0 at once with `detach`).
    public func run(_ record: ContainerRecord, _ config: ContainerConfig, _ options: Options) throws -> Int32 {
        guard record.isRunning, let process = record.process, process.isAlive else {
            throw BurrowError(.cannotExecute, "container \(record.name) is not running: start it first ('burrow start \(record.name)')")
        }
        try ContainerAccess(store: store).enterUserNamespace(of: record)
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        func open(_ name: String) throws -> Int32 {
            let fd = Glibc.open("/proc/\(process.pid)/ns/\(name)", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError("open the container's namespace", path: "/proc/\(process.pid)/ns/\(name)", errno: errno) }
            descriptors.append(fd)
            return fd
        }
        var plan = LaunchPlan(namespaces: [])
        for (name, type) in ContainerExecution.joined where !isCurrent(process.pid, name) {
            plan.add(.joinNamespace(descriptor: try open(name), type: type), "join the container's \(name) namespace")
        }
        // The pid namespace holds for children only: entered here, before the clone.
        if !isCurrent(process.pid, "pid") {
            let fd = try open("pid")
            try syscall("enter the container's pid namespace", "pid \(process.pid)") { bsys_setns(fd, ContainerExecution.newPID) }
        }

        plan.process = try self.process(process.pid, config, options)
        plan.stdinFromNull = !options.interactive
        plan.newSession = true
        plan.dieWithParent = !options.detach
        // In the background it holds none of the caller's streams, or a pipe
        // reading them would wait for it to end.
        plan.detachStandardStreams = options.detach
        var consoleMine: Int32 = -1
        // In the background a terminal would have no one at its other end.
        if options.tty && !options.detach {
            let (mine, theirs) = try UnixSocket.pair()
            consoleMine = mine
            descriptors.append(theirs)
            let size = MonitorSession.terminalSize() ?? (24, 80)
            plan.console = LaunchPlan.Console(socket: theirs, rows: size.rows, columns: size.columns)
        }
        defer { if consoleMine >= 0 { close(consoleMine) } }

        // In the container's cgroup, under its limits.
        var cgroupFD: Int32? = nil
        if let cgroup = record.cgroup {
            let fd = Glibc.open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd >= 0 {
                descriptors.append(fd)
                cgroupFD = fd
            }
        }
        let child: Launcher.Child
        do {
            child = try Launcher.clone(plan.namespaces, cgroup: cgroupFD).run(plan, mapping: nil)
        } catch {
            throw ContainerRunner.userFacing(error, arguments: options.command, starting: "the command")
        }
        if options.detach { return 0 }
        guard options.tty else { return try Launcher.wait(child) }

        let master = burrow_receive_descriptor(consoleMine)
        guard master >= 0 else { throw SystemError("receive the terminal of the command", errno: -master) }
        defer { close(master) }
        let result = options.detachKeys.withUnsafeBufferPointer { keys in
            var config = burrow_attach_config(
                socket_fd: -1, pty_fd: master, pidfd: child.pidfd, stdin_fd: options.interactive ? 0 : -1, stdout_fd: 1, stderr_fd: 2,
                tty: 1, detach_keys: nil, detach_keys_length: 0, proxy_signals: 1)
            return burrow_attach_run(&config)
        }
        if result < 0 { throw SystemError("relay the command's terminal", errno: -result) }
        return result
    }

    /// The command as the container runs its own: its environment (with
    /// the options over it), user, directory and capabilities.
    func process(_ pid: Int32, _ config: ContainerConfig, _ options: Options) throws -> LaunchPlan.Process {
        guard !options.command.isEmpty, !options.command[0].isEmpty else {
            throw BurrowError.invalidArgument("no command given: burrow exec CONTAINER COMMAND [ARG...]")
        }
        var uid = config.uid, gid = config.gid, groups = config.groups
        var environment = config.environment
        if let spec = options.user {
            // The container's own files now: users added since it started count.
            let root = "/proc/\(pid)/root"
            let database = UserDatabase(passwd: try? FileSystem.readText("\(root)/etc/passwd"), group: try? FileSystem.readText("\(root)/etc/group"))
            let resolved: UserDatabase.Resolved
            do {
                resolved = try database.resolve(spec)
            } catch {
                throw BurrowError.invalidArgument("\(error)")
            }
            (uid, gid, groups) = (resolved.uid, resolved.gid, resolved.additionalGroups)
            guard ContainerExecution.maps(pid, "uid_map", uid), ContainerExecution.maps(pid, "gid_map", gid) else {
                throw BurrowError.unsupported("the user \(spec) (uid \(uid), gid \(gid)) cannot exist in container \(config.hostname): its user namespace does not map that id (without subordinate ids only root is mapped)")
            }
            environment = environment.filter { !$0.hasPrefix("HOME=") } + ["HOME=\(resolved.home)"]
        }
        let extra: [String]
        do {
            extra = try ProcessSpecification.userEnvironment(flags: options.environment, files: options.environmentFiles, lookup: BurrowSystem.environment)
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }
        for entry in extra {
            let name = entry.prefix { $0 != "=" }
            environment.removeAll { $0.prefix { $0 != "=" } == name }
            environment.append(entry)
        }
        let workingDirectory = options.workingDirectory ?? config.workingDirectory
        guard workingDirectory.hasPrefix("/") else {
            throw BurrowError.invalidArgument("the working directory '\(workingDirectory)' is invalid: it needs to be an absolute path")
        }
        var process = LaunchPlan.Process(arguments: options.command, environment: environment)
        process.workingDirectory = workingDirectory
        process.searchPath = ProcessSpecification.searchPath(in: environment)
        process.user = (uid, gid)
        // setgroups is denied in a namespace that maps one id.
        if (try? FileSystem.readText("/proc/\(pid)/setgroups"))?.hasPrefix("allow") == true {
            process.groups = [gid] + groups.filter { $0 != gid }
        }
        process.capabilities = Capability.sets(Capability.dockerDefault, forUID: uid)
        process.resourceLimits = try ResourceLimits(config).rlimits
        return process
    }

    /// Whether the container's user namespace has `id` in the map `file`.
    static func maps(_ pid: Int32, _ file: String, _ id: UInt32) -> Bool {
        guard let text = try? FileSystem.readText("/proc/\(pid)/\(file)") else { return true }
        return text.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ").compactMap { UInt64($0) }
            return fields.count == 3 && UInt64(id) >= fields[0] && UInt64(id) < fields[0] + fields[2]
        }
    }

    private func isCurrent(_ pid: Int32, _ name: String) -> Bool {
        var theirs = stat(), mine = stat()
        guard stat("/proc/\(pid)/ns/\(name)", &theirs) == 0, stat("/proc/self/ns/\(name)", &mine) == 0 else { return false }
        return theirs.st_ino == mine.st_ino && theirs.st_dev == mine.st_dev
    }
}
