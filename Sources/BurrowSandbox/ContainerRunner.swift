import BurrowArchive
import BurrowLaunch
import BurrowOCI
import BurrowStorage
import BurrowStore
import BurrowSystem
import Glibc

/// `burrow run` in the foreground: creates the container, runs it, waits,
/// records how it ended, and removes it with --rm.
public struct ContainerRunner {
    public let store: Store
    public let identity: Identity
    /// Where warnings for the user go, one line each.
    public let warn: (String) -> Void
    /// Where news of slow work goes (shown on a terminal only).
    public let note: (String) -> Void

    public init(store: Store, identity: Identity, warn: @escaping (String) -> Void, note: @escaping (String) -> Void) {
        self.store = store
        self.identity = identity
        self.warn = warn
        self.note = note
    }

    /// What follows from the options and the user alone, before the image is read.
    struct Setting {
        let mapping: UserNamespaceMapping
        let probe: StorageProbe
        let choice: StorageChoice
        let layerView: String

        /// Where the image's files need a helper in a user namespace of their
        /// own first (a vfs copy, keep-id layer copies), the container's
        /// child is cloned after them; otherwise before the image is read.
        var clonesEarly: Bool { choice.driver != .vfs && layerView == LayerView.standard }
    }

    /// Everything decided before anything is created.
    struct Prepared {
        let imageID: Digest
        let record: ImageRecord
        let config: ContainerConfiguration
        let arguments: [String]
        let workingDirectory: String
        let userEnvironment: [String]
        let resolvedUser: UserDatabase.Resolved
    }

    func settle(_ options: RunOptions) throws -> Setting {
        let mapping = try identity.mapping(options.userNamespace == .keepID ? .keepID : .rootless)
        if mapping.needsHelpers { _ = try HelperPrograms.locate() }
        let probe = StorageProbe.current(store: store)
        let choice = try probe.choose(requested: options.storageDriver)
        // With subordinate ids, keep-id reads layer copies whose owners match its mapping.
        let layerView = options.userNamespace == .keepID && mapping.needsHelpers && identity.user.uid != 0
            ? LayerView.keepID(uid: identity.user.uid, gid: identity.user.gid) : LayerView.standard
        return Setting(mapping: mapping, probe: probe, choice: choice, layerView: layerView)
    }

    /// Runs the container and returns its exit code.
    public func run(_ options: RunOptions) throws -> Int32 {
        let setting = try settle(options)
        if options.dryRun {
            let prepared = try prepare(options, setting)
            let id = Hex.random(bytes: 32)
            let filesystem = ContainerFilesystem(layout: store.layout, id: id, driver: setting.choice.driver, layerView: setting.layerView,
                                                 ephemeral: options.remove)
            let plan = try makePlan(options, setting, prepared, filesystem: filesystem, id: id)
            print(PlanDescription.text(plan, mapping: setting.mapping))
            return 0
        }

        // The child is cloned as early as can be and works in parallel with
        // this process: the kernel makes its network namespace while the
        // image is read and the container's files are created here.
        var child: (pending: Launcher.Pending, mapping: UserNamespaceMapping?)? = setting.clonesEarly ? try cloneChild(options, setting) : nil
        let id = Hex.random(bytes: 32)
        let filesystem = ContainerFilesystem(layout: store.layout, id: id, driver: setting.choice.driver, layerView: setting.layerView,
                                             ephemeral: options.remove)
        let prepared: Prepared
        let name = options.name ?? ContainerNames.random()
        var record: ContainerRecord
        do {
            prepared = try prepare(options, setting)
            record = ContainerRecord(id: id, name: name, imageID: prepared.imageID, imageName: options.image,
                                     layers: prepared.record.layers, command: prepared.arguments, created: Timestamp.now(),
                                     driver: setting.choice.driver.rawValue, autoRemove: options.remove)
            record.layerView = setting.layerView == LayerView.standard ? nil : setting.layerView
        } catch {
            child?.pending.abandon()
            throw error
        }
        do {
            try filesystem.create(layers: prepared.record.layers)
        } catch {
            child?.pending.abandon()
            _ = filesystem.remove()
            throw error
        }
        let pending: Launcher.Pending
        do {
            if child == nil {
                try ensureLayerView(setting, layers: prepared.record.layers)
                if setting.choice.driver == .vfs {
                    let code = try UserNamespaceHelper.run(["--root", store.layout.root, "__storage", "assemble", id, setting.layerView]
                                                             + prepared.record.layers.map(\.description), mapping: try identity.mapping(.rootless))
                    if code != 0 { throw BurrowError.engine("could not copy the image into the container's root filesystem (vfs driver)") }
                }
                child = try cloneChild(options, setting)
            }
            guard let child else { preconditionFailure("the container's child was not cloned") }
            pending = child.pending
            var plan = try makePlan(options, setting, prepared, filesystem: filesystem, id: id)
            if child.mapping == nil { plan.namespaces.remove(.user) }
            try pending.start(plan, mapping: child.mapping)
            // Held while the record appears, so `rmi` sees this container before it can remove a layer.
            let lock = try store.lock(.shared)
            guard store.imageExists(prepared.imageID) else { throw BurrowError.notFound("image \(options.image) was removed while the container was being created") }
            try store.reserveName(name, for: id)
            record.state = .running
            record.pid = pending.pid
            do {
                try store.writeContainer(record)
            } catch {
                store.releaseName(name, of: id)
                throw error
            }
            _ = lock
        } catch {
            child?.pending.abandon()
            _ = filesystem.remove()
            throw error
        }

        // Forked while the child mounts its root filesystem: the process
        // that will delete a --rm container's files costs nothing on the way out.
        let cleaner = options.remove ? ContainerRemoval(store: store, identity: identity).prepareCleaner(for: filesystem, name: name) : nil
        let exitCode: Int32
        do {
            let child = try pending.finish()
            for warning in child.warnings { warn(warning) }
            exitCode = try Launcher.wait(child)
            finish(&record, exitCode: exitCode, remove: options.remove, filesystem: filesystem, cleaner: cleaner)
        } catch {
            let failed = ContainerRunner.exitCode(for: error)
            finish(&record, exitCode: failed, remove: options.remove, filesystem: filesystem, cleaner: cleaner)
            throw ContainerRunner.userFacing(error, arguments: prepared.arguments)
        }
        return exitCode
    }

    /// Clones the container's child into its namespaces. With subordinate
    /// ids it joins the user's standing namespace (newuidmap ran once, when
    /// that was made) and the returned mapping is nil: there is none to write.
    private func cloneChild(_ options: RunOptions, _ setting: Setting) throws -> (pending: Launcher.Pending, mapping: UserNamespaceMapping?) {
        var namespaces = ContainerPlan.namespaces(network: options.network)
        let joined = joinStandingNamespace(setting.mapping)
        if joined { namespaces.remove(.user) }
        return (try Launcher.clone(namespaces), joined ? nil : setting.mapping)
    }

    func prepare(_ options: RunOptions, _ setting: Setting) throws -> Prepared {
        let imageID: Digest
        let record: ImageRecord
        do {
            let lock = try store.lock(.shared)
            imageID = try store.resolveImage(options.image)
            guard let found = try store.imageRecord(imageID) else { throw BurrowError.notFound("image \(options.image) is not in the store") }
            record = found
            _ = lock
        }
        let configBytes = try store.imageConfigBytes(imageID)
        let config: ContainerConfiguration
        do {
            config = ContainerConfiguration(configurationDocument: try JSONValue(parsing: configBytes))
        } catch {
            throw BurrowError.engine("the configuration of image \(options.image) is damaged (\(error)): remove the image and load it again")
        }
        let arguments: [String]
        let workingDirectory: String
        let userEnvironment: [String]
        do {
            arguments = try ProcessSpecification.arguments(config: config, command: options.command, entrypoint: options.entrypoint)
            workingDirectory = try ProcessSpecification.workingDirectory(image: config.workingDir, option: options.workingDirectory)
            userEnvironment = try ProcessSpecification.userEnvironment(flags: options.environment, files: options.environmentFiles, lookup: environment)
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }

        var userSpec = options.user ?? config.user ?? ""
        if options.userNamespace == .keepID && options.user == nil { userSpec = "\(identity.user.uid):\(identity.user.gid)" }
        let layers = try record.layers.map { diffID -> LayeredFileReader.Layer in
            guard let layer = try store.layerRecord(diffID) else {
                throw BurrowError.engine("layer \(diffID) of image \(options.image) is missing from the store: remove the image and load it again")
            }
            return LayeredFileReader.Layer(tree: store.layout.layerTree(diffID), whiteouts: WhiteoutFormat(rawValue: layer.whiteouts) ?? .overlay)
        }
        let reader = LayeredFileReader(layers: layers)
        let database = UserDatabase(passwd: reader.read("/etc/passwd").map { String(decoding: $0, as: UTF8.self) },
                                    group: reader.read("/etc/group").map { String(decoding: $0, as: UTF8.self) })
        let resolved: UserDatabase.Resolved
        do {
            resolved = try database.resolve(userSpec)
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }
        guard setting.mapping.mapsUID(resolved.uid), setting.mapping.mapsGID(resolved.gid) else {
            throw BurrowError.unsupported(unmappedUserMessage(resolved, spec: userSpec, mapping: setting.mapping))
        }
        return Prepared(imageID: imageID, record: record, config: config, arguments: arguments, workingDirectory: workingDirectory,
                        userEnvironment: userEnvironment, resolvedUser: resolved)
    }

    /// Joins the standing namespace for a mapping with subordinate ids; false
    /// when there is none to join (a single id maps itself cheaply) or when
    /// this process cannot setns (then newuidmap maps a new namespace).
    private func joinStandingNamespace(_ mapping: UserNamespaceMapping) -> Bool {
        guard mapping.needsHelpers else { return false }
        do {
            try UserNamespaceKeeper.join(mapping: mapping, runtimeDirectory: UserNamespaceKeeper.runtimeDirectory(uid: identity.user.uid))
            return true
        } catch {
            return false
        }
    }

    /// The keep-id copies of the image's layers, made once per user and layer.
    private func ensureLayerView(_ setting: Setting, layers: [Digest]) throws {
        guard setting.layerView != LayerView.standard else { return }
        let missing = layers.filter { !FileSystem.exists(store.layout.layerTree($0, view: setting.layerView)) }
        guard !missing.isEmpty else { return }
        note("preparing the image's layers for --userns=keep-id (once per image)")
        let code = try UserNamespaceHelper.run(["--root", store.layout.root, "__storage", "shift", String(identity.user.uid),
                                                String(identity.user.gid)] + missing.map(\.description),
                                               mapping: try identity.mapping(.rootless))
        if code != 0 { throw BurrowError.engine("could not prepare the image's layers for --userns=keep-id") }
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

    func makePlan(_ options: RunOptions, _ setting: Setting, _ prepared: Prepared, filesystem: ContainerFilesystem,
                  id: String) throws -> LaunchPlan {
        let hostname = options.hostname ?? (options.network == .host ? HostSystem.hostname : String(id.prefix(12)))
        let environment = ProcessSpecification.environment(image: prepared.config.env ?? [], user: prepared.userEnvironment,
                                                           hostname: hostname, home: prepared.resolvedUser.home)
        let input = ContainerPlan.Input(
            rootfsSteps: try filesystem.mountSteps(layers: prepared.record.layers),
            etcFiles: EtcFiles.contents(hostname: hostname, network: options.network), hostname: hostname,
            network: options.network,
            arguments: prepared.arguments, environment: environment, workingDirectory: prepared.workingDirectory,
            uid: prepared.resolvedUser.uid, gid: prepared.resolvedUser.gid, additionalGroups: prepared.resolvedUser.additionalGroups,
            canSetGroups: setting.mapping.needsHelpers, ttyGroup: setting.mapping.mapsGID(5) ? 5 : nil,
            interactive: options.interactive)
        return ContainerPlan.make(input)
    }

    private func finish(_ record: inout ContainerRecord, exitCode: Int32, remove: Bool, filesystem: ContainerFilesystem,
                        cleaner: ContainerRemoval.Cleaner?) {
        if remove {
            ContainerRemoval(store: store, identity: identity).removeSoon(record, filesystem: filesystem, cleaner: cleaner)
            return
        }
        record.state = .exited
        record.exitCode = exitCode
        record.finished = Timestamp.now()
        record.pid = nil
        try? store.writeContainer(record)
    }

    /// 126 when the program exists but cannot run, 127 when it does not
    /// exist, 125 for everything that is burrow's.
    static func exitCode(for error: Error) -> Int32 {
        guard let failure = error as? LaunchFailure, failure.phase == .exec else { return 125 }
        return failure.errno == ENOENT ? 127 : 126
    }

    static func userFacing(_ error: Error, arguments: [String]) -> Error {
        guard let failure = error as? LaunchFailure else { return error }
        let program = arguments.first ?? ""
        if failure.phase == .exec {
            if failure.errno == ENOENT {
                let message = program.contains("/")
                    ? "cannot run \(program): no such file or directory in the container"
                    : "cannot run \(program): executable file not found in $PATH"
                return BurrowError(.commandNotFound, message)
            }
            return BurrowError(.cannotExecute, "cannot run \(program): \(failure.reason.lowercased())")
        }
        return BurrowError.engine("could not start the container: \(failure)")
    }
}
