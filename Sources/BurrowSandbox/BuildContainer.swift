import BurrowLaunch
import BurrowOCI
import BurrowStorage
import BurrowStore
import BurrowSystem
import Glibc

/// The container of one `burrow build` step: the state of the build so
/// far (its layers) under an upper directory that collects the step's
/// changes. It has no record, name or monitor: `ps` never shows it, and
/// the builder removes it once its changes are a layer. RUN starts a
/// process in it with the same launch as `run` (ContainerLaunch).
public struct BuildContainer {
    public let store: Store
    public let identity: Identity
    public let id: String
    public let layers: [Digest]
    public let filesystem: ContainerFilesystem

    /// Creates the step's directories. Build steps need the overlay
    /// driver: its upper directory is the step's changes.
    public static func create(store: Store, identity: Identity, layers: [Digest]) throws -> BuildContainer {
        let choice = try StorageProbe.current(store: store).choose(requested: nil)
        guard choice.driver == .overlay else {
            throw BurrowError.unsupported("burrow build needs the overlay storage driver (this store uses \(choice.driver.rawValue)): see burrow info")
        }
        let id = Hex.random(bytes: 32)
        let filesystem = ContainerFilesystem(layout: store.layout, id: id, driver: .overlay)
        try filesystem.create(layers: layers)
        try markOwned(filesystem.directory)
        return BuildContainer(store: store, identity: identity, id: id, layers: layers, filesystem: filesystem)
    }

    /// The file that names the build a build container belongs to.
    public static let ownerFile = "build.owner"

    /// Names this process as the build container's owner: a build killed
    /// halfway (kill -9, a lost terminal) leaves its directory behind, and
    /// the next build removes the directories of builds that no longer run.
    public static func markOwned(_ directory: String) throws {
        try FileSystem.writeFile("\(directory)/\(ownerFile)", Array(ProcessIdentity.current().description.utf8), mode: 0o600)
    }

    /// The build containers whose build has ended without removing them.
    public static func abandoned(store: Store) -> [String] {
        ((try? FileSystem.entries(of: store.layout.containers)) ?? []).filter { id in
            guard let text = try? FileSystem.readText("\(store.layout.container(id))/\(ownerFile)") else { return false }
            return ProcessIdentity(text.trimmingCharacters(in: .whitespacesAndNewlines))?.isAlive != true
        }
    }

    /// What a RUN step runs, and how.
    public struct Process {
        public var arguments: [String]
        public var environment: [String]
        public var workingDirectory: String
        /// USER as the Dockerfile gives it ("" is root).
        public var user: String
        public var network: RunOptions.Network
        public var hostCA: String?
        /// The program's output goes here (1 and 2); nil keeps burrow's own.
        public var output: Int32?

        public init(arguments: [String], environment: [String], workingDirectory: String, user: String, network: RunOptions.Network,
                    hostCA: String?, output: Int32?) {
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.user = user
            self.network = network
            self.hostCA = hostCA
            self.output = output
        }
    }

    /// Runs the process to its end and returns its exit code.
    public func run(_ process: Process, imageID: Digest) throws -> Int32 {
        let creation = ContainerCreation(store: store, identity: identity, note: { _ in })
        let launch = ContainerLaunch(store: store, identity: identity)
        let mapping = try identity.mapping(.rootless)
        if mapping.needsHelpers { _ = try HelperPrograms.locate() }
        let user = try creation.resolveUser(process.user, layers: layers, image: "the build", mapping: mapping)
        let hostname = String(id.prefix(12))
        var environment = process.environment
        if !environment.contains(where: { $0.hasPrefix("HOME=") }) { environment.append("HOME=\(user.home)") }
        if !environment.contains(where: { $0.hasPrefix("HOSTNAME=") }) { environment.append("HOSTNAME=\(hostname)") }
        var config = ContainerConfig(
            image: "build step", imageID: imageID, layers: layers, driver: StorageDriver.overlay.rawValue,
            entrypoint: [], cmd: process.arguments, arguments: process.arguments, environment: environment,
            workingDirectory: process.workingDirectory, user: process.user, uid: user.uid, gid: user.gid,
            groups: user.additionalGroups, hostname: hostname, network: process.network.rawValue)
        // A step's command is not PID 1, which ignores signals it has no
        // handler for: Ctrl-C ends `RUN sleep 30` and so the build.
        config.initProcess = true
        if let bundle = process.hostCA {
            config.hostCA = bundle
            config.environment = HostCA.withCertificateFile(config.environment)
        }
        let streams = ContainerLaunch.Streams(descriptors: try process.output.map { [try openNull(), $0, $0] }, stdinFromNull: true)
        defer { if let descriptors = streams.descriptors { close(descriptors[0]) } }
        let child = try launch.cloneChild(network: process.network, mapping: mapping)
        var network: NetworkHelper? = nil
        defer { network?.stop() }
        do {
            var plan = try launch.plan(config, mapping: mapping, filesystem: filesystem, streams: streams)
            if child.mapping == nil { plan.namespaces.remove(.user) }
            plan.dieWithParent = true
            network = try launch.startNetwork(child.pending, config: config, ports: [])
            try child.pending.start(plan, mapping: child.mapping)
            return try Launcher.wait(try child.pending.finish())
        } catch {
            child.pending.abandon()
            if let failure = error as? LaunchFailure, failure.phase == .exec {
                throw ContainerRunner.userFacing(error, arguments: process.arguments)
            }
            throw ContainerRunner.userFacing(error, arguments: process.arguments, starting: "the RUN step")
        }
    }

    private func openNull() throws -> Int32 {
        let fd = try syscall("open", "/dev/null") { open("/dev/null", O_RDONLY | O_CLOEXEC) }
        // The launch wants descriptors 3 and above.
        if fd >= 3 { return fd }
        defer { close(fd) }
        return try syscall("dup", "/dev/null") { fcntl(fd, F_DUPFD_CLOEXEC, 3) }
    }

    /// The paths a RUN step's mounts may have created in the upper
    /// directory (mount points, the /etc files): left out of the layer when
    /// the image did not have them. A build lends the host's CA bundle as a
    /// layer, not by mounts, so its paths are not among them: a step may
    /// well create /etc/ssl/certs itself.
    public static var mountStubs: [String] {
        ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/proc", "/sys", "/dev", "/etc"]
    }
}

extension BuildContainer {
    /// USER or --chown as ids, from the image's own /etc/passwd and /etc/group.
    public static func resolveUser(_ spec: String, store: Store, identity: Identity, layers: [Digest]) throws -> (uid: UInt32, gid: UInt32) {
        let creation = ContainerCreation(store: store, identity: identity, note: { _ in })
        let resolved = try creation.resolveUser(spec, layers: layers, image: "the build", mapping: try identity.mapping(.rootless))
        return (resolved.uid, resolved.gid)
    }
}
