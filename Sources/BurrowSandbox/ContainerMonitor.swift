import BurrowLaunch
import BurrowStorage
import BurrowStore
import BurrowSystem
import CBurrowMonitor
import Glibc

/// The body of `burrow __monitor`: one process per running container, in a
/// session of its own, that outlives the command which started it. It
/// starts the container as its child, keeps its output in the log and
/// hands it to attached clients, records how it ended, and removes it when
/// it was started with --rm.
public struct ContainerMonitor {
    public let store: Store
    public let identity: Identity

    public init(store: Store, identity: Identity) {
        self.store = store
        self.identity = identity
    }

    /// The first client: the command that started the monitor, connected
    /// before the container runs so it misses none of its output.
    public struct Client {
        public var descriptor: Int32
        public var flags: UInt32
        public init(descriptor: Int32, flags: UInt32) {
            self.descriptor = descriptor
            self.flags = flags
        }
    }

    /// Runs the container to its end. Whatever fails is told to the client
    /// and written into the container's record.
    public func run(id: String, client: Client?, terminalSize: (rows: UInt16, columns: UInt16)?, cgroup: String? = nil) {
        // Removed before the record says the container ended: a restart may make it again at once.
        func removeCgroup() {
            if let cgroup { try? ContainerCgroup.remove(path: cgroup) }
        }
        let clientFD = client?.descriptor ?? -1
        guard let config = try? store.containerConfig(id) else {
            tell(clientFD, failure: 125, "container \(id.prefix(12)) has no configuration: remove it and create it again")
            return
        }
        let launch = ContainerLaunch(store: store, identity: identity)
        let filesystem = launch.filesystem(config, id: id)
        var cleaner: ContainerRemoval.Cleaner? = nil
        var streams = Streams()
        do {
            try claim(id)
            let name = try store.container(id)?.name ?? id
            if config.autoRemove { cleaner = ContainerRemoval(store: store, identity: identity).prepareCleaner(for: filesystem, name: name) }
            try streams.open(config, terminalSize: terminalSize)
            let socket = try listen(id)
            streams.listenFD = socket.descriptor
            var cgroupFD: Int32? = nil
            if let cgroup {
                let fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard fd >= 0 else { throw SystemError("open the container's cgroup", path: cgroup, errno: errno) }
                cgroupFD = fd
            }
            defer { if let cgroupFD { close(cgroupFD) } }
            let launched = try launch.start(config, id: id, streams: streams.forChild, cgroup: cgroupFD)
            let child = launched.child
            defer { launched.network?.stop() }
            try streams.afterStart()
            try store.updateContainer(id) { record in
                record.ports = launched.ports
                record.process = ProcessIdentity.of(child.pid)
                record.attachSocket = socket.path
                record.cgroup = cgroup
                record.error = child.warnings.isEmpty ? nil : child.warnings.joined(separator: "; ")
            }
            var started = Int32(child.pid)
            _ = burrow_frame_write(clientFD, UInt32(BURROW_FRAME_STARTED), &started, 4)

            // Ended once: from the monitor as the container ends, before any
            // client or waiter hears of it (so the command typed next sees it
            // ended, and a restart can bind its ports); or after, when the
            // monitor lost track of it.
            var ended = false
            func end(_ status: Int32?) {
                guard !ended else { return }
                ended = true
                launched.network?.stop()
                unlink(socket.path)
                removeCgroup()
                record(id, exitCode: status.map(Launcher.exitCode(status:)) ?? 125, error: status == nil ? "the monitor lost track of the container" : nil)
            }
            end(streams.monitor(child: child, log: openLog(id), client: client, ended: { end($0) }))
        } catch {
            streams.closeAll()
            removeCgroup()
            let code = ContainerRunner.exitCode(for: error)
            let message = "\(ContainerRunner.userFacing(error, arguments: config.arguments))"
            record(id, exitCode: code, error: message)
            tell(clientFD, failure: code, message)
        }
        if config.autoRemove, let record = try? store.container(id) {
            ContainerRemoval(store: store, identity: identity).removeSoon(record, filesystem: filesystem, cleaner: cleaner)
            ContainerMounts.removeAnonymousVolumes(of: record, store: store, identity: identity)
        } else {
            cleaner?.cancel()
        }
    }

    /// Marks the container as this monitor's; a container that runs already is a conflict.
    private func claim(_ id: String) throws {
        guard let current = try store.currentContainer(id) else { throw BurrowError.notFound("no such container: \(id)") }
        try store.updateContainer(id) { record in
            if record.state == .running, let monitor = record.monitor, monitor.isAlive, monitor != ProcessIdentity.current() {
                throw BurrowError.conflict("container \(current.name) is already running")
            }
            record.state = .running
            record.monitor = ProcessIdentity.current()
            record.process = nil
            record.started = Timestamp.nowPrecise()
            record.finished = nil
            record.exitCode = nil
            record.error = nil
        }
    }

    private func record(_ id: String, exitCode: Int32, error: String?) {
        _ = try? store.updateContainer(id) { record in
            record.state = .exited
            record.exitCode = exitCode
            record.finished = Timestamp.nowPrecise()
            record.attachSocket = nil
            record.cgroup = nil
            if let error { record.error = error }
        }
    }

    private func tell(_ fd: Int32, failure code: Int32, _ message: String) {
        guard fd >= 0 else { return }
        var payload: [UInt8] = []
        withUnsafeBytes(of: code.littleEndian) { payload += $0 }
        payload += Array(message.utf8)
        _ = payload.withUnsafeBytes { burrow_frame_write(fd, UInt32(BURROW_FRAME_FAILED), $0.baseAddress, UInt32($0.count)) }
    }

    private func openLog(_ id: String) -> Int32 {
        open(store.layout.containerLog(id), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    }

    /// The attach socket, in the user's private runtime directory.
    private func listen(_ id: String) throws -> (descriptor: Int32, path: String) {
        let directory = UserNamespaceKeeper.runtimeDirectory(uid: identity.user.uid)
        try FileSystem.makeDirectories(directory, mode: 0o700)
        let name = "attach-\(id.prefix(32)).sock"
        return (try UnixSocket.listen(directory: directory, name: name), "\(directory)/\(name)")
    }

    /// The container's end of each stream and the monitor's.
    struct Streams {
        var stdoutRead: Int32 = -1, stdoutWrite: Int32 = -1
        var stderrRead: Int32 = -1, stderrWrite: Int32 = -1
        var stdinRead: Int32 = -1, stdinWrite: Int32 = -1
        var consoleMine: Int32 = -1, consoleChild: Int32 = -1
        var pty: Int32 = -1
        var listenFD: Int32 = -1
        var forChild = ContainerLaunch.Streams(stdinFromNull: true)

        mutating func open(_ config: ContainerConfig, terminalSize: (rows: UInt16, columns: UInt16)?) throws {
            let null = Glibc.open("/dev/null", O_RDWR | O_CLOEXEC)
            guard null >= 0 else { throw SystemError("open", path: "/dev/null", errno: errno) }
            if config.tty {
                (consoleMine, consoleChild) = try UnixSocket.pair()
                let size = terminalSize ?? (24, 80)
                forChild = ContainerLaunch.Streams(descriptors: [null, null, null],
                                                   console: LaunchPlan.Console(socket: consoleChild, rows: size.rows, columns: size.columns),
                                                   stdinFromNull: false)
                stdinRead = null
                return
            }
            (stdoutRead, stdoutWrite) = try UnixSocket.pipe()
            (stderrRead, stderrWrite) = try UnixSocket.pipe()
            if config.openStdin {
                (stdinRead, stdinWrite) = try UnixSocket.pipe()
                close(null)
            } else {
                stdinRead = null
            }
            forChild = ContainerLaunch.Streams(descriptors: [stdinRead, stdoutWrite, stderrWrite], stdinFromNull: !config.openStdin)
        }

        /// The child has its copies; the pty's master arrives from it.
        mutating func afterStart() throws {
            for fd in [stdoutWrite, stderrWrite, stdinRead, consoleChild] where fd >= 0 { close(fd) }
            stdoutWrite = -1; stderrWrite = -1; stdinRead = -1; consoleChild = -1
            if consoleMine >= 0 {
                let master = burrow_receive_descriptor(consoleMine)
                close(consoleMine)
                consoleMine = -1
                if master < 0 { throw SystemError("receive the container's terminal", errno: -master) }
                pty = master
            }
        }

        /// The loop, until the container ended; nil when it could not tell how.
        func monitor(child: Launcher.Child, log: Int32, client: Client?, ended: @escaping (Int32) -> Void) -> Int32? {
            let callback = EndCallback(ended)
            var config = burrow_monitor_config(
                pid: child.pid, pidfd: child.pidfd, stdout_fd: stdoutRead, stderr_fd: stderrRead, stdin_fd: stdinWrite,
                pty_fd: pty, log_fd: log, listen_fd: listenFD, client_fd: client?.descriptor ?? -1,
                client_flags: client?.flags ?? 0, drain_ms: 2000,
                ended: { status, context in Unmanaged<EndCallback>.fromOpaque(context!).takeUnretainedValue().call(status) },
                ended_context: Unmanaged.passUnretained(callback).toOpaque())
            defer { withExtendedLifetime(callback) {} }
            var status: Int32 = 0
            // The container may run for days; start-up's code is not needed while it does.
            StartupPages.release()
            let rc = burrow_monitor_run(&config, &status)
            if log >= 0 { close(log) }
            if listenFD >= 0 { close(listenFD) }
            return rc == 0 ? status : nil
        }

        func closeAll() {
            for fd in [stdoutRead, stdoutWrite, stderrRead, stderrWrite, stdinRead, stdinWrite, consoleMine, consoleChild, pty, listenFD]
            where fd >= 0 { close(fd) }
        }
    }
}

/// The monitor's end-of-container call, as a pointer C can carry.
private final class EndCallback {
    let call: (Int32) -> Void
    init(_ call: @escaping (Int32) -> Void) { self.call = call }
}
