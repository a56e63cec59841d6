import BurrowLaunch
import BurrowStorage
import BurrowStore
import BurrowSystem
import Glibc

/// Starts a created container's PID 1 from its configuration: the launch
/// plan, the child cloned into the container's namespaces, its streams.
public struct ContainerLaunch {
    public let store: Store
    public let identity: Identity

    public init(store: Store, identity: Identity) {
        self.store = store
        self.identity = identity
    }

    /// The container's standard streams.
    public struct Streams {
        /// Descriptors (3 and above) that become the program's 0, 1 and 2; nil keeps this process's own.
        public var descriptors: [Int32]?
        /// A terminal instead: the pty's master comes back over this socket.
        public var console: LaunchPlan.Console?
        /// No -i: standard input reads /dev/null.
        public var stdinFromNull: Bool

        public init(descriptors: [Int32]? = nil, console: LaunchPlan.Console? = nil, stdinFromNull: Bool) {
            self.descriptors = descriptors
            self.console = console
            self.stdinFromNull = stdinFromNull
        }
    }

    public func mapping(_ config: ContainerConfig) throws -> UserNamespaceMapping {
        try identity.mapping(config.userNamespace == "keep-id" ? .keepID : .rootless)
    }

    public static func network(_ config: ContainerConfig) -> RunOptions.Network {
        RunOptions.Network(rawValue: config.network) ?? .none
    }

    /// Clones the container's child into its namespaces. With subordinate
    /// ids it joins the user's standing namespace (newuidmap ran once, when
    /// that was made) and the returned mapping is nil: there is none to write.
    public func cloneChild(network: RunOptions.Network, mapping: UserNamespaceMapping, cgroup: Int32? = nil) throws -> (pending: Launcher.Pending, mapping: UserNamespaceMapping?) {
        var namespaces = ContainerPlan.namespaces(network: network)
        let joined = joinStandingNamespace(mapping)
        if joined { namespaces.remove(.user) }
        let tap = network == .slirp ? SlirpNetwork.tap : nil
        return (try Launcher.clone(namespaces, cgroup: cgroup, tap: tap), joined ? nil : mapping)
    }

    /// Binds the ports the container publishes, before it starts: a busy
    /// or privileged port fails here.
    public func bindPorts(_ config: ContainerConfig) throws -> [PortBinding.Bound] {
        ContainerLaunch.network(config) == .slirp ? try PortBinding.bind(config.publish) : []
    }

    /// Starts the userspace network of a slirp container on the TAP device
    /// its child made; nil for the other networks. The helper gets copies
    /// of the bound ports: the caller releases its own.
    public func startNetwork(_ pending: Launcher.Pending, config: ContainerConfig, ports: [PortBinding.Bound]) throws -> NetworkHelper? {
        guard ContainerLaunch.network(config) == .slirp else { return nil }
        let end = try pending.receiveNetwork()
        defer { end.close() }
        return try NetworkHelper.start(end, ports: ports, allowHostLoopback: config.allowHostLoopback)
    }

    /// Joins the standing namespace for a mapping with subordinate ids; false
    /// when there is none to join (a single id maps itself cheaply) or when
    /// this process cannot setns (then newuidmap maps a new namespace).
    public func joinStandingNamespace(_ mapping: UserNamespaceMapping) -> Bool {
        guard mapping.needsHelpers else { return false }
        do {
            try UserNamespaceKeeper.join(mapping: mapping, runtimeDirectory: UserNamespaceKeeper.runtimeDirectory(uid: identity.user.uid))
            return true
        } catch {
            return false
        }
    }

    public func filesystem(_ config: ContainerConfig, id: String) -> ContainerFilesystem {
        ContainerFilesystem(layout: store.layout, id: id, driver: StorageDriver(rawValue: config.driver) ?? .overlay,
                            layerView: config.layerView ?? LayerView.standard, ephemeral: config.autoRemove)
    }

    /// The launch plan of a container.
    public func plan(_ config: ContainerConfig, mapping: UserNamespaceMapping, filesystem: ContainerFilesystem,
                     streams: Streams) throws -> LaunchPlan {
        let network = ContainerLaunch.network(config)
        var input = ContainerPlan.Input(
            rootfsSteps: try filesystem.mountSteps(layers: config.layers),
            etcFiles: EtcFiles.contents(hostname: config.hostname, network: network), hostname: config.hostname,
            network: network, arguments: config.arguments, environment: config.environment,
            workingDirectory: config.workingDirectory, uid: config.uid, gid: config.gid, additionalGroups: config.groups,
            canSetGroups: mapping.needsHelpers, ttyGroup: mapping.mapsGID(5) ? 5 : nil, interactive: !streams.stdinFromNull)
        if config.initProcess { input.initBinary = try ContainerLaunch.initBinary() }
        input.mountSteps = MountSteps.steps(config.mounts.map(ResolvedMount.init), readOnlyRoot: config.readOnlyRoot, etcFiles: input.etcFiles)
        if let bundle = config.hostCA { input.mountSteps.mounts += HostCA.steps(bundle: bundle) }
        var plan = ContainerPlan.make(input)
        plan.process?.resourceLimits = try ResourceLimits(config).rlimits
        plan.standardStreams = streams.descriptors
        plan.console = streams.console
        return plan
    }

    /// burrow-init, built beside burrow.
    public static func initBinary() throws -> String {
        let executable = HostSystem.executablePath
        let path = (executable.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")) + "/burrow-init"
        guard access(path, X_OK) == 0 else {
            throw BurrowError.notFound("--init needs burrow-init beside burrow, at \(path): build it with scripts/build.sh, or run without --init")
        }
        return path
    }

    /// A started container: its first process, and the network helper
    /// that the caller stops when the container ends.
    public struct Started {
        public let child: Launcher.Child
        public let network: NetworkHelper?
        /// The ports published, with the host ports they got.
        public let ports: [PortMapping]
    }

    /// Starts the container and returns once its program runs. The caller
    /// is the container's parent and waits for it.
    public func start(_ config: ContainerConfig, id: String, streams: Streams, cgroup: Int32? = nil) throws -> Started {
        let mapping = try mapping(config)
        if mapping.needsHelpers { _ = try HelperPrograms.locate() }
        let ports = try bindPorts(config)
        defer { PortBinding.release(ports) }
        let child = try cloneChild(network: ContainerLaunch.network(config), mapping: mapping, cgroup: cgroup)
        var network: NetworkHelper? = nil
        do {
            var plan = try plan(config, mapping: mapping, filesystem: filesystem(config, id: id), streams: streams)
            if child.mapping == nil { plan.namespaces.remove(.user) }
            network = try startNetwork(child.pending, config: config, ports: ports)
            try child.pending.start(plan, mapping: child.mapping)
            return Started(child: try child.pending.finish(), network: network, ports: ports.map(\.mapping))
        } catch {
            child.pending.abandon()
            network?.stop()
            throw error
        }
    }
}
