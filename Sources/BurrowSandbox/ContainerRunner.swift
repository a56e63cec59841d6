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

    /// Runs the container in the foreground, as this process's child, and
    /// returns its exit code: `run --rm` without a terminal, whose streams
    /// are this process's own.
    public func run(_ options: RunOptions) throws -> Int32 {
        let creation = ContainerCreation(store: store, identity: identity, note: note)
        let launch = ContainerLaunch(store: store, identity: identity)
        let setting = try creation.settle(options)
        let streams = ContainerLaunch.Streams(stdinFromNull: !options.interactive)
        if options.dryRun {
            let id = Hex.random(bytes: 32)
            var config = try creation.resolve(options, setting, id: id)
            config.mounts = ContainerMounts.preview(specs: options.mounts, store: store, imageVolumes: creation.imageVolumes(config)).map(\.configuration)
            let plan = try launch.plan(config, mapping: setting.mapping, filesystem: launch.filesystem(config, id: id), streams: streams)
            print(PlanDescription.text(plan, mapping: setting.mapping))
            return 0
        }

        // The container's cgroup comes first: its first process is cloned
        // straight into it, and burrow moves itself out of its own cgroup
        // (see ContainerCgroup) before it starts any process of its own.
        let id = Hex.random(bytes: 32)
        let cgroup = try ContainerCgroup.prepare(limits: options.limits, containerID: id)
        for warning in cgroup?.warnings ?? [] { warn(warning) }
        defer {
            do { try cgroup?.remove() } catch { warn("\(error)") }
        }

        // The child is cloned as early as can be and works in parallel with
        // this process: the kernel makes its network namespace while the
        // image is read and the container's files are created here.
        var child = setting.clonesEarly
            ? try launch.cloneChild(network: options.network, mapping: setting.mapping, cgroup: cgroup?.directoryFD) : nil
        var config: ContainerConfig
        let filesystem: ContainerFilesystem
        let mounts: [ResolvedMount]
        // Shared until the record is written: `volume rm` waits for it.
        var storeLock: FileLock? = nil
        do {
            config = try creation.resolve(options, setting, id: id)
            storeLock = try store.lock(.shared)
            mounts = try creation.mount(options, into: &config)
            do {
                filesystem = try creation.makeFilesystem(config, setting, id: id)
            } catch {
                ContainerMounts.discard(mounts, store: store, identity: identity)
                throw error
            }
        } catch {
            child?.pending.abandon()
            throw error
        }
        let name = options.name ?? ContainerNames.random()
        let pending: Launcher.Pending
        var record: ContainerRecord
        var network: NetworkHelper? = nil
        defer { network?.stop() }
        do {
            let ports = try launch.bindPorts(config)
            defer { PortBinding.release(ports) }
            if child == nil { child = try launch.cloneChild(network: options.network, mapping: setting.mapping, cgroup: cgroup?.directoryFD) }
            guard let child else { preconditionFailure("the container's child was not cloned") }
            pending = child.pending
            var plan = try launch.plan(config, mapping: setting.mapping, filesystem: filesystem, streams: streams)
            if child.mapping == nil { plan.namespaces.remove(.user) }
            network = try launch.startNetwork(pending, config: config, ports: ports)
            try pending.start(plan, mapping: child.mapping)
            // This process runs the container: it is its monitor.
            record = try creation.register(config, id: id, name: name) { record in
                record.state = .running
                record.started = Timestamp.nowPrecise()
                record.monitor = ProcessIdentity.current()
                record.process = ProcessIdentity.of(pending.pid)
                record.cgroup = cgroup?.path
                record.ports = ports.map(\.mapping)
            }
        } catch {
            child?.pending.abandon()
            _ = filesystem.remove()
            ContainerMounts.discard(mounts, store: store, identity: identity)
            throw error
        }
        storeLock = nil

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
            throw ContainerRunner.userFacing(error, arguments: config.arguments)
        }
        return exitCode
    }

    private func finish(_ record: inout ContainerRecord, exitCode: Int32, remove: Bool, filesystem: ContainerFilesystem,
                        cleaner: ContainerRemoval.Cleaner?) {
        if remove {
            ContainerRemoval(store: store, identity: identity).removeSoon(record, filesystem: filesystem, cleaner: cleaner)
            ContainerMounts.removeAnonymousVolumes(of: record, store: store, identity: identity)
            return
        }
        _ = try? store.updateContainer(record.id) { current in
            current.state = .exited
            current.exitCode = exitCode
            current.finished = Timestamp.nowPrecise()
            current.attachSocket = nil
        }
    }

    /// 126 when the program exists but cannot run, 127 when it does not
    /// exist, 125 for everything that is burrow's.
    static func exitCode(for error: Error) -> Int32 {
        guard let failure = error as? LaunchFailure, failure.phase == .exec else { return 125 }
        return failure.errno == ENOENT ? 127 : 126
    }

    static func userFacing(_ error: Error, arguments: [String], starting what: String = "the container") -> Error {
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
        return BurrowError.engine("could not start \(what): \(failure)")
    }
}
