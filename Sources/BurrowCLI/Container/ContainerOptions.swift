import BurrowOCI
import BurrowSandbox
import BurrowStorage
import BurrowSystem
import Glibc

/// The options `run` and `create` share, and how they become RunOptions.
enum ContainerOptions {
    static let specs: [OptionSpec] = [
        OptionSpec("rm", help: "Remove the container when it exits"),
        OptionSpec("interactive", short: "i", help: "Keep standard input open (otherwise the container reads /dev/null)"),
        OptionSpec("tty", short: "t", help: "Allocate a pseudo-terminal of the caller's size"),
        OptionSpec("env", short: "e", value: "KEY=VALUE", repeatable: true, help: "Set an environment variable; KEY alone passes the caller's value"),
        OptionSpec("env-file", value: "FILE", repeatable: true, help: "Read environment variables from FILE, one KEY=VALUE per line"),
        OptionSpec("workdir", short: "w", value: "DIR", help: "Working directory inside the container (created when missing)"),
        OptionSpec("user", short: "u", value: "USER[:GROUP]", help: "Run as this user and group, by name or number"),
        OptionSpec("entrypoint", value: "COMMAND", help: "Replace the image's entrypoint (and its default command)"),
        OptionSpec("hostname", short: "h", value: "NAME", help: "The container's hostname"),
        OptionSpec("name", value: "NAME", help: "Name the container"),
        OptionSpec("userns", value: "MODE", help: "User namespace: \"\" (root inside is you) or keep-id (you keep your uid)"),
        OptionSpec("network", value: "MODE", help: "slirp (the default: a userspace network; slirp:allow_host_loopback=true also reaches the host's loopback), none (loopback only) or host"),
        OptionSpec("net", value: "MODE", help: "The same as --network"),
        OptionSpec("publish", short: "p", value: "[IP:][HOST:]PORT[/udp]", repeatable: true, help: "Publish a container port on the host: 4000:80, 127.0.0.1:4000:80, 80"),
        OptionSpec("publish-all", short: "P", help: "Publish every port the image exposes, each on a free host port"),
        OptionSpec("init", help: "Run a small init as PID 1 that passes signals on and reaps orphans"),
        OptionSpec("stop-timeout", value: "SECONDS", help: "Seconds 'stop' waits before SIGKILL (default 10)"),
        OptionSpec("volume", short: "v", value: "[SOURCE:]TARGET[:OPTIONS]", repeatable: true, help: "Bind a host path or mount a volume (named or anonymous)"),
        OptionSpec("mount", value: "type=TYPE,...", repeatable: true, help: "Mount a bind, volume or tmpfs (Docker's --mount)"),
        OptionSpec("tmpfs", value: "PATH[:OPTIONS]", repeatable: true, help: "Mount a new tmpfs on PATH"),
        OptionSpec("read-only", help: "Make the root filesystem read-only"),
        OptionSpec("memory", short: "m", value: "SIZE", help: "Memory limit (cgroup v2, delegated): 512m, 1.5g"),
        OptionSpec("memory-swap", value: "SIZE", help: "Memory plus swap limit; -1 for unlimited swap"),
        OptionSpec("cpus", value: "N", help: "CPU time limit in CPUs: 1.5"),
        OptionSpec("cpu-shares", short: "c", value: "N", help: "Relative CPU weight (1024 is the default)"),
        OptionSpec("cpuset-cpus", value: "LIST", help: "CPUs the container may run on: 0-3,5"),
        OptionSpec("pids-limit", value: "N", help: "Most processes in the container; -1 for no limit"),
        OptionSpec("ulimit", value: "NAME=SOFT[:HARD]", repeatable: true, help: "Resource limit of the container's processes: nofile=1024:2048"),
        OptionSpec("host-ca", help: "Lend the host's CA bundle to the container, read-only (default false, or BURROW_HOST_CA)"),
        OptionSpec("host-ca-file", value: "FILE", help: "Lend this CA bundle to the container instead of the host's"),
        OptionSpec("pull", value: "POLICY", help: "When to pull the image: missing (the default), always or never"),
    ]

    /// `--pull`: runs `burrow pull` first when the policy asks for it, its
    /// output on standard error so that standard output stays the container's.
    static func pullImage(_ arguments: ParsedArguments, _ context: Context) throws {
        let policy = arguments.value("pull") ?? "missing"
        guard ["missing", "always", "never"].contains(policy) else {
            throw BurrowError.invalidArgument("invalid --pull policy \(policy): give missing, always or never")
        }
        let image = arguments.positionals[0]
        if policy == "never" { return }
        if policy == "missing" {
            do {
                _ = try context.store().resolveImage(image)
                return
            } catch let error as BurrowError where error.code == .notFound {
                guard (try? ImageReference(parsing: image)) != nil else { throw error }
                Context.standardError("Unable to find image '\(ImagePull.familiarName(image))' locally\n")
            }
        }
        try ImagePull.pullInChild(image, context)
    }

    static func runOptions(_ arguments: ParsedArguments, _ context: Context) throws -> RunOptions {
        var options = RunOptions(image: arguments.positionals[0])
        options.command = Array(arguments.positionals.dropFirst())
        options.entrypoint = arguments.value("entrypoint")
        options.environment = arguments.values("env")
        options.environmentFiles = try environmentFiles(arguments)
        options.workingDirectory = arguments.value("workdir")
        options.user = arguments.value("user")
        if let hostname = arguments.value("hostname") {
            guard ContainerNames.isValidHostname(hostname) else {
                throw BurrowError.invalidArgument("invalid hostname \"\(hostname)\": use 1 to 64 of [a-zA-Z0-9.-], not starting with a hyphen")
            }
            options.hostname = hostname
        }
        if let name = arguments.value("name") {
            guard ContainerNames.isValid(name) else {
                throw BurrowError.invalidArgument("invalid container name \"\(name)\": use 1 to 128 of [a-zA-Z0-9_.-], starting with a letter or digit")
            }
            options.name = name
        }
        options.remove = arguments.flag("rm")
        options.interactive = arguments.flag("interactive")
        options.tty = arguments.flag("tty")
        options.initProcess = arguments.flag("init")
        options.storageDriver = context.storageDriver
        if let text = arguments.value("stop-timeout") {
            guard let seconds = Int(text), seconds >= -1 else {
                throw BurrowError.invalidArgument("invalid --stop-timeout \"\(text)\": give a number of seconds")
            }
            options.stopTimeout = seconds
        }
        options.mounts = try MountSpecParser.parse(volumes: arguments.values("volume"), mounts: arguments.values("mount"),
                                                   tmpfs: arguments.values("tmpfs"), workingDirectory: FileSystem.absolute("."))
        options.readOnly = arguments.flag("read-only")
        for flag in ResourceLimits.flagNames { if let value = arguments.value(flag) { options.limitFlags[flag] = value } }
        options.ulimits = arguments.values("ulimit")
        options.limits = try ResourceLimits.parse(flags: options.limitFlags, ulimits: options.ulimits)
        switch arguments.value("userns") {
        case nil, "", "host": options.userNamespace = .rootless
        case "keep-id": options.userNamespace = .keepID
        case let other?: throw BurrowError.invalidArgument("--userns=\(other) is unknown: use keep-id, or leave it out")
        }
        do {
            let network = try NetworkMode.parse(arguments.value("network") ?? arguments.value("net"))
            options.network = network.network
            options.allowHostLoopback = network.allowHostLoopback
            options.publish = try arguments.values("publish").flatMap { spec throws(PortSpec.Invalid) in try PortSpec.parse(spec) }
            try PortSpec.requireDistinct(options.publish)
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }
        options.publishAll = arguments.flag("publish-all")
        let hostCA = try HostCA.enabled(flag: arguments.has("host-ca") ? (arguments.flag("host-ca") ? "true" : "false") : nil, fallback: false)
        options.hostCA = try HostCA.bundle(enabled: hostCA, file: arguments.value("host-ca-file"), asked: arguments.flag("host-ca"), warn: context.warn)
        if options.network == .host && (!options.publish.isEmpty || options.publishAll) {
            // As Docker: the container's servers are on the host's ports already.
            context.warn("published ports are discarded with --network host: the container's servers listen on the host's own ports")
            options.publish = []
            options.publishAll = false
        }
        if options.network == .none && (!options.publish.isEmpty || options.publishAll) {
            throw BurrowError.invalidArgument("ports cannot be published with --network none: publish them with the slirp network (the default)")
        }
        return options
    }

    /// Each --env-file's path and text.
    static func environmentFiles(_ arguments: ParsedArguments) throws -> [(path: String, text: String)] {
        try arguments.values("env-file").map { path in
            guard let text = try? FileSystem.readText(path) else {
                throw BurrowError.notFound("cannot read the env file \(path): give a readable file of KEY=VALUE lines")
            }
            return (path, text)
        }
    }

    /// --detach-keys, or Docker's default ctrl-p,ctrl-q.
    static func detachKeys(_ arguments: ParsedArguments) throws -> [UInt8] {
        do {
            return try DetachKeys.parse(arguments.value("detach-keys") ?? DetachKeys.standard)
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }
    }
}
