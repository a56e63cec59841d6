import BurrowArchive
import BurrowLaunch
import BurrowOCI
import BurrowStorage
import BurrowStore
import BurrowSystem
import Glibc

/// Makes a container: resolves the image's configuration and the options
/// with Docker's rules into a ContainerConfig, and creates its files, name
/// and record. Nothing runs yet (`create`; the first half of `run`).
public struct ContainerCreation {
    public let store: Store
    public let identity: Identity
    /// Where news of slow work goes (shown on a terminal only).
    public let note: (String) -> Void

    public init(store: Store, identity: Identity, note: @escaping (String) -> Void) {
        self.store = store
        self.identity = identity
        self.note = note
    }

    /// What follows from the options and the user alone, before the image is read.
    public struct Setting {
        public let mapping: UserNamespaceMapping
        let probe: StorageProbe
        let choice: StorageChoice
        public let layerView: String

        public var driver: StorageDriver { choice.driver }

        /// Where the image's files need a helper in a user namespace of their
        /// own first (a vfs copy, keep-id layer copies), the container's
        /// child is cloned after them; otherwise before the image is read.
        var clonesEarly: Bool { choice.driver != .vfs && layerView == LayerView.standard }
    }

    public func settle(_ options: RunOptions) throws -> Setting {
        let mapping = try identity.mapping(options.userNamespace == .keepID ? .keepID : .rootless)
        if mapping.needsHelpers { _ = try HelperPrograms.locate() }
        let probe = StorageProbe.current(store: store)
        let choice = try probe.choose(requested: options.storageDriver)
        // With subordinate ids, keep-id reads layer copies whose owners match its mapping.
        let layerView = options.userNamespace == .keepID && mapping.needsHelpers && identity.user.uid != 0
            ? LayerView.keepID(uid: identity.user.uid, gid: identity.user.gid) : LayerView.standard
        return Setting(mapping: mapping, probe: probe, choice: choice, layerView: layerView)
    }

    /// The container's configuration: the image's, with the options over it.
    public func resolve(_ options: RunOptions, _ setting: Setting, id: String) throws -> ContainerConfig {
        let imageID: Digest
        let record: ImageRecord
        do {
            let lock = try store.lock(.shared)
            imageID = try store.resolveImage(options.image)
            guard let found = try store.imageRecord(imageID) else { throw BurrowError.notFound("image \(options.image) is not in the store") }
            record = found
            _ = lock
        }
        let image: ContainerConfiguration
        do {
            image = ContainerConfiguration(configurationDocument: try JSONValue(parsing: try store.imageConfigBytes(imageID)))
        } catch {
            throw BurrowError.engine("the configuration of image \(options.image) is damaged (\(error)): remove the image and load it again")
        }
        let arguments: [String]
        let workingDirectory: String
        let userEnvironment: [String]
        do {
            arguments = try ProcessSpecification.arguments(config: image, command: options.command, entrypoint: options.entrypoint)
            workingDirectory = try ProcessSpecification.workingDirectory(image: image.workingDir, option: options.workingDirectory)
            userEnvironment = try ProcessSpecification.userEnvironment(flags: options.environment, files: options.environmentFiles, lookup: environment)
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }

        var userSpec = options.user ?? image.user ?? ""
        if options.userNamespace == .keepID && options.user == nil { userSpec = "\(identity.user.uid):\(identity.user.gid)" }
        let resolved = try resolveUser(userSpec, layers: record.layers, image: options.image, mapping: setting.mapping)

        let hostname = options.hostname ?? (options.network == .host ? HostSystem.hostname : String(id.prefix(12)))
        let entrypoint = options.entrypoint.map { $0.isEmpty ? [] : [$0] } ?? image.entrypoint ?? []
        var config = ContainerConfig(
            image: options.image, imageID: imageID, layers: record.layers, driver: setting.driver.rawValue,
            entrypoint: entrypoint, cmd: Array(arguments.dropFirst(entrypoint.count)), arguments: arguments,
            environment: ProcessSpecification.environment(image: image.env ?? [], user: userEnvironment, hostname: hostname, home: resolved.home),
            workingDirectory: workingDirectory, user: userSpec, uid: resolved.uid, gid: resolved.gid, groups: resolved.additionalGroups,
            hostname: hostname, network: options.network.rawValue)
        config.layerView = setting.layerView == LayerView.standard ? nil : setting.layerView
        config.userNamespace = options.userNamespace == .keepID ? "keep-id" : ""
        config.tty = options.tty
        config.openStdin = options.interactive
        config.stdinOnce = options.interactive && !options.detach
        config.autoRemove = options.remove
        config.initProcess = options.initProcess
        config.stopSignal = image.stopSignal
        config.stopTimeout = options.stopTimeout
        config.limitFlags = options.limitFlags
        config.ulimits = options.ulimits
        config.readOnlyRoot = options.readOnly
        config.allowHostLoopback = options.allowHostLoopback
        config.publish = options.publish
        if let bundle = options.hostCA {
            config.hostCA = bundle
            config.environment = HostCA.withCertificateFile(config.environment)
        }
        if options.publishAll {
            let exposed = PortSpec.exposed(Array(image.exposedPorts?.keys ?? [:].keys))
            config.publish += exposed.filter { port in !options.publish.contains { $0.containerKey == port.containerKey } }
        }
        return config
    }

    /// The image's VOLUME paths: each gets an anonymous volume unless a mount covers it.
    func imageVolumes(_ config: ContainerConfig) -> [String] {
        guard let bytes = try? store.imageConfigBytes(config.imageID), let document = try? JSONValue(parsing: bytes) else { return [] }
        return Array(ContainerConfiguration(configurationDocument: document).volumes?.keys ?? [:].keys).sorted()
    }

    /// Finds or makes what the container mounts (volumes filled from the
    /// image), into its configuration. Call with the store locked shared
    /// until the container's record is written: `volume rm` locks it
    /// exclusively. `ContainerMounts.discard` undoes it.
    public func mount(_ options: RunOptions, into config: inout ContainerConfig) throws -> [ResolvedMount] {
        let mounts = try ContainerMounts.resolve(specs: options.mounts, store: store, identity: identity, imageLayers: config.layers,
                                                 imageVolumes: imageVolumes(config))
        config.mounts = mounts.map(\.configuration)
        return mounts
    }

    /// The user the container runs as, from the image's own /etc/passwd and /etc/group.
    func resolveUser(_ spec: String, layers: [Digest], image: String, mapping: UserNamespaceMapping) throws -> UserDatabase.Resolved {
        let trees = try layers.map { diffID -> LayeredFileReader.Layer in
            guard let layer = try store.layerRecord(diffID) else {
                throw BurrowError.engine("layer \(diffID) of image \(image) is missing from the store: remove the image and load it again")
            }
            return LayeredFileReader.Layer(tree: store.layout.layerTree(diffID), whiteouts: WhiteoutFormat(rawValue: layer.whiteouts) ?? .overlay)
        }
        let reader = LayeredFileReader(layers: trees)
        let database = UserDatabase(passwd: reader.read("/etc/passwd").map { String(decoding: $0, as: UTF8.self) },
                                    group: reader.read("/etc/group").map { String(decoding: $0, as: UTF8.self) })
        let resolved: UserDatabase.Resolved
        do {
            resolved = try database.resolve(spec)
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }
        guard mapping.mapsUID(resolved.uid), mapping.mapsGID(resolved.gid) else {
            throw BurrowError.unsupported(unmappedUserMessage(resolved, spec: spec, mapping: mapping))
        }
        return resolved
    }

    private func unmappedUserMessage(_ user: UserDatabase.Resolved, spec: String, mapping: UserNamespaceMapping) -> String {
        let who = spec.isEmpty ? "root" : spec
        if !mapping.needsHelpers {
            let start = SubordinateIDs.freeStart(in: (try? FileSystem.readText("/etc/subuid")) ?? "", count: 65536)
            let only = mapping.uids.first?.inside ?? 0
            return "the container's user \(who) (uid \(user.uid), gid \(user.gid)) cannot exist here: you have no subordinate ids, so only uid \(only) is mapped; run it as -u \(only), or ask an administrator to add \"\(identity.user.name):\(start):65536\" to /etc/subuid and /etc/subgid"
        }
        let highest = mapping.uids.map { UInt64($0.inside) + UInt64($0.count) - 1 }.max() ?? 0
        return "the container's user \(who) (uid \(user.uid), gid \(user.gid)) is outside the ids mapped for you (0-\(highest)): use a user up to \(highest), or ask for a larger range in /etc/subuid and /etc/subgid"
    }

    /// Creates the container's directories and, where the driver needs them
    /// before the container starts, its files (a vfs copy, keep-id layer
    /// copies). Removed again when anything fails.
    public func makeFilesystem(_ config: ContainerConfig, _ setting: Setting, id: String) throws -> ContainerFilesystem {
        let filesystem = ContainerFilesystem(layout: store.layout, id: id, driver: setting.driver, layerView: setting.layerView,
                                             ephemeral: config.autoRemove)
        do {
            try filesystem.create(layers: config.layers)
            try ensureLayerView(setting, layers: config.layers)
            if setting.driver == .vfs {
                let code = try UserNamespaceHelper.run(["--root", store.layout.root, "__storage", "assemble", id, setting.layerView]
                                                         + config.layers.map(\.description), mapping: try identity.mapping(.rootless))
                if code != 0 { throw BurrowError.engine("could not copy the image into the container's root filesystem (vfs driver)") }
            }
            try store.writeContainerConfig(config, id: id)
        } catch {
            _ = filesystem.remove()
            throw error
        }
        return filesystem
    }

    /// The keep-id copies of the image's layers, made once per user and layer.
    func ensureLayerView(_ setting: Setting, layers: [Digest]) throws {
        guard setting.layerView != LayerView.standard else { return }
        let missing = layers.filter { !FileSystem.exists(store.layout.layerTree($0, view: setting.layerView)) }
        guard !missing.isEmpty else { return }
        note("preparing the image's layers for --userns=keep-id (once per image)")
        let code = try UserNamespaceHelper.run(["--root", store.layout.root, "__storage", "shift", String(identity.user.uid),
                                                String(identity.user.gid)] + missing.map(\.description),
                                               mapping: try identity.mapping(.rootless))
        if code != 0 { throw BurrowError.engine("could not prepare the image's layers for --userns=keep-id") }
    }

    /// The first record of a container; written with its name reserved,
    /// while the store lock keeps `rmi` from removing the image under it.
    public func register(_ config: ContainerConfig, id: String, name: String, state: (inout ContainerRecord) -> Void = { _ in }) throws -> ContainerRecord {
        var record = ContainerRecord(id: id, name: name, imageID: config.imageID, imageName: config.image, layers: config.layers,
                                     command: config.arguments, created: Timestamp.nowPrecise(), driver: config.driver, autoRemove: config.autoRemove)
        record.layerView = config.layerView
        record.mounts = config.mounts
        state(&record)
        let lock = try store.lock(.shared)
        defer { _ = lock }
        guard store.imageExists(config.imageID) else {
            throw BurrowError.notFound("image \(config.image) was removed while the container was being created")
        }
        try store.reserveName(name, for: id)
        do {
            try store.writeContainer(record)
        } catch {
            store.releaseName(name, of: id)
            throw error
        }
        return record
    }

    /// `create`: the whole of it, returning the new container's record.
    public func create(_ options: RunOptions) throws -> ContainerRecord {
        try options.limits.checkCgroup()
        let setting = try settle(options)
        let id = Hex.random(bytes: 32)
        var config = try resolve(options, setting, id: id)
        let lock = try store.lock(.shared)
        defer { _ = lock }
        let mounts = try mount(options, into: &config)
        do {
            let filesystem = try makeFilesystem(config, setting, id: id)
            do {
                return try register(config, id: id, name: options.name ?? ContainerNames.random())
            } catch {
                _ = filesystem.remove()
                throw error
            }
        } catch {
            ContainerMounts.discard(mounts, store: store, identity: identity)
            throw error
        }
    }
}
