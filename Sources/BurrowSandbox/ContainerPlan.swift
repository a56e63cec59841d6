import BurrowLaunch

/// Builds the launch plan of a container: its root filesystem, the
/// filesystems every container gets, and its process. Pure: no file is
/// read or written here.
public struct ContainerPlan {
    public struct Input: Sendable {
        public var rootfsSteps: [LaunchPlan.Step]
        /// The contents of the container's /etc/hosts, /etc/hostname and /etc/resolv.conf.
        public var etcFiles: [(name: String, contents: String)]
        public var hostname: String
        public var network: RunOptions.Network
        public var arguments: [String]
        public var environment: [String]
        public var workingDirectory: String
        public var uid: UInt32
        public var gid: UInt32
        public var additionalGroups: [UInt32]
        /// false when only the user's own id is mapped: setgroups is denied then.
        public var canSetGroups: Bool
        /// The tty group (5), when it is mapped.
        public var ttyGroup: UInt32?
        public var interactive: Bool
        /// --init: the host's burrow-init, bound on /dev/init, runs as PID 1 and starts the program.
        public var initBinary: String? = nil
        /// The user's mounts and --read-only (MountSteps).
        public var mountSteps = MountSteps.Steps(mounts: [], afterPivotRoot: [])

        public init(rootfsSteps: [LaunchPlan.Step], etcFiles: [(name: String, contents: String)], hostname: String, network: RunOptions.Network,
                    arguments: [String], environment: [String], workingDirectory: String, uid: UInt32, gid: UInt32,
                    additionalGroups: [UInt32], canSetGroups: Bool, ttyGroup: UInt32?, interactive: Bool) {
            self.rootfsSteps = rootfsSteps
            self.etcFiles = etcFiles
            self.hostname = hostname
            self.network = network
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.uid = uid
            self.gid = gid
            self.additionalGroups = additionalGroups
            self.canSetGroups = canSetGroups
            self.ttyGroup = ttyGroup
            self.interactive = interactive
        }
    }

    /// Docker's masked and read-only paths under /proc and /sys.
    public static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]
    public static let readOnlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
    public static let devices = ["null", "zero", "full", "random", "urandom", "tty"]
    /// Where --init's program is, as Docker puts its own.
    public static let initPath = "/dev/init"

    /// A container's namespaces: all of its own, but the network with `--network host`.
    public static func namespaces(network: RunOptions.Network) -> Set<LaunchPlan.Namespace> {
        var namespaces: Set<LaunchPlan.Namespace> = [.user, .mount, .pid, .uts, .ipc]
        if network != .host { namespaces.insert(.network) }
        return namespaces
    }

    public static func make(_ input: Input) -> LaunchPlan {
        var plan = LaunchPlan(namespaces: namespaces(network: input.network))
        plan.add(.makePrivate, "make the mount namespace private")
        plan.steps += input.rootfsSteps

        func mount(_ source: String?, _ target: String, _ type: String?, _ data: String?, _ flags: MountFlags,
                   create: LaunchPlan.Create = .directory, optional: Bool = false, readOnly: Bool = false,
                   recursive: Bool = false, _ label: String) {
            plan.add(.mount(source: source, target: target, type: type, data: data, flags: flags, inRoot: true,
                            create: create, optional: optional, readOnly: readOnly, recursive: recursive), label)
        }

        plan.add(.pseudoFilesystem(type: "proc", path: "/proc", hostFallback: "/proc", readOnly: false), "mount proc on /proc")
        mount("tmpfs", "/dev", "tmpfs", "mode=755,size=65536k", [.noSetuid, .strictAccessTime], "mount tmpfs on /dev")
        for device in devices {
            mount("/dev/\(device)", "/dev/\(device)", nil, nil, [.bind], create: .file, optional: true, "bind /dev/\(device)")
        }
        let ptsOptions = "newinstance,ptmxmode=0666,mode=0620" + (input.ttyGroup.map { ",gid=\($0)" } ?? "")
        mount("devpts", "/dev/pts", "devpts", ptsOptions, [.noSetuid, .noExec], "mount devpts on /dev/pts")
        plan.add(.symlink(text: "pts/ptmx", path: "/dev/ptmx"), "link /dev/ptmx")
        mount("shm", "/dev/shm", "tmpfs", "mode=1777,size=65536k", [.noSetuid, .noDevices, .noExec], "mount tmpfs on /dev/shm")
        mount("mqueue", "/dev/mqueue", "mqueue", nil, [.noSetuid, .noDevices, .noExec], "mount mqueue on /dev/mqueue")
        for (link, text) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                             ("stderr", "/proc/self/fd/2"), ("core", "/proc/kcore")] {
            plan.add(.symlink(text: text, path: "/dev/\(link)"), "link /dev/\(link)")
        }
        if input.network == .host {
            mount("/sys", "/sys", nil, nil, [.bind, .recursive], readOnly: true, recursive: true, "bind the host's /sys read-only")
        } else {
            plan.add(.pseudoFilesystem(type: "sysfs", path: "/sys", hostFallback: "/sys", readOnly: true), "mount sysfs on /sys")
        }
        // Written to the container's own /dev tmpfs, bound into /etc, and
        // unlinked from /dev again: no disk holds them, the container sees
        // them only in /etc.
        for (name, contents) in input.etcFiles {
            let scratch = "/dev/.burrow-\(name)"
            plan.add(.writeFile(scratch, contents: contents, mode: 0o644), "write /etc/\(name)")
            plan.add(.bindInRoot(source: scratch, target: "/etc/\(name)", create: .file), "bind /etc/\(name)")
            plan.add(.unlink(scratch), "tidy /dev after /etc/\(name)")
        }
        // After the container's own /etc files, so a user's mount of /etc keeps them on top.
        plan.steps += input.mountSteps.mounts
        if let initBinary = input.initBinary {
            mount(initBinary, ContainerPlan.initPath, nil, nil, [.bind], create: .file, readOnly: true, "bind burrow-init on \(ContainerPlan.initPath)")
        }
        plan.add(.makeDirectory(input.workingDirectory, mode: 0o755), "create the working directory \(input.workingDirectory)")
        for path in maskedPaths { plan.add(.mask(path), "mask \(path)") }
        for path in readOnlyPaths { plan.add(.readOnly(path), "make \(path) read-only") }
        plan.add(.pivotRoot, "pivot_root into the root filesystem")
        plan.steps += input.mountSteps.afterPivotRoot
        plan.add(.hostname(input.hostname), "set the hostname \(input.hostname)")

        let arguments = input.initBinary == nil ? input.arguments : [ContainerPlan.initPath, "--"] + input.arguments
        var process = LaunchPlan.Process(arguments: arguments, environment: input.environment)
        process.workingDirectory = input.workingDirectory
        process.searchPath = ProcessSpecification.searchPath(in: input.environment)
        process.user = (input.uid, input.gid)
        // As Docker: the primary group leads the supplementary list, then the /etc/group memberships.
        if input.canSetGroups { process.groups = [input.gid] + input.additionalGroups.filter { $0 != input.gid } }
        process.capabilities = Capability.sets(Capability.dockerDefault, forUID: input.uid)
        plan.process = process
        plan.stdinFromNull = !input.interactive
        plan.newSession = true
        return plan
    }
}
