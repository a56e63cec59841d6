import BurrowLaunch
import BurrowStore
import BurrowSystem
import CBurrowMonitor
import Glibc

/// The command's side of a container's monitor: starting one (`run`,
/// `start`), and relaying between the caller's terminal or pipes and a
/// running container (`attach`).
public struct MonitorSession {
    public let store: Store
    /// Where warnings for the user go, one line each.
    public let warn: (String) -> Void

    public init(store: Store, warn: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.warn = warn
    }

    /// How the caller's streams join the container's.
    public struct Attachment {
        public var stdin: Bool
        /// The container's input closes when the caller's does (`run -i`).
        public var stdinOnce: Bool
        public var tty: Bool
        public var detachKeys: [UInt8]
        /// Signals the caller gets go to the container (Docker's --sig-proxy).
        public var proxySignals: Bool

        public init(stdin: Bool, stdinOnce: Bool, tty: Bool, detachKeys: [UInt8], proxySignals: Bool) {
            self.stdin = stdin
            self.stdinOnce = stdinOnce
            self.tty = tty
            self.detachKeys = detachKeys
            self.proxySignals = proxySignals
        }

        var flags: UInt32 {
            var flags = UInt32(BURROW_ATTACH_STDOUT | BURROW_ATTACH_STDERR)
            if stdin { flags |= UInt32(BURROW_ATTACH_STDIN) }
            if stdin && stdinOnce { flags |= UInt32(BURROW_ATTACH_STDIN_ONCE) }
            return flags
        }
    }

    public enum Outcome: Equatable {
        /// The container runs on; the caller was not attached, or detached.
        case running
        case detached
        case exited(Int32)
    }

    /// Starts the monitor of a created (or exited) container, which starts
    /// the container. Returns once it runs, or, attached, once it ends.
    public func start(id: String, attach: Attachment?) throws -> Outcome {
        // The container's cgroup is made here, where burrow may still move
        // itself out of the way (ContainerCgroup); its monitor is born in
        // burrow's new place and removes the cgroup when the container ends.
        var cgroup: ContainerCgroup? = nil
        if let config = try store.containerConfig(id) {
            cgroup = try ContainerCgroup.prepare(limits: try ResourceLimits(config), containerID: id)
            for warning in cgroup?.warnings ?? [] { warn(warning) }
        }
        let (mine, theirs) = try UnixSocket.pair()
        defer { close(mine) }
        var arguments = [HostSystem.executablePath, "--root", store.layout.root, "__monitor", id]
        if let cgroup { arguments += ["--cgroup", cgroup.path] }
        if let attach {
            arguments += ["--client-flags", String(attach.flags)]
            if attach.tty, let size = MonitorSession.terminalSize() { arguments += ["--tty-size", "\(size.rows),\(size.columns)"] }
        }
        let pid = MonitorSession.spawn(arguments, keeping: [theirs])
        close(theirs)
        if pid < 0 {
            try? cgroup?.remove()
            throw SystemError("start the container's monitor", path: arguments[0], errno: -pid)
        }
        try awaitStart(mine, id: id)
        guard let attach else { return .running }
        return try relay(socket: mine, attach)
    }

    /// Attaches to a running container's monitor.
    public func attach(_ record: ContainerRecord, _ attach: Attachment) throws -> Outcome {
        guard record.isRunning else {
            throw BurrowError.conflict("container \(record.name) is not running: start it with 'burrow start -a \(record.name)'")
        }
        guard let path = record.attachSocket else {
            throw BurrowError.conflict("container \(record.name) runs in the foreground of a 'burrow run --rm', whose streams are that command's own: there is nothing to attach to (run it with -d or without --rm to attach later)")
        }
        let socket = try UnixSocket.connect(path: path)
        defer { close(socket) }
        var flags = attach.flags
        let rc = burrow_frame_write(socket, UInt32(BURROW_FRAME_HELLO), &flags, 4)
        if rc < 0 { throw SystemError("attach to", path: path, errno: -rc) }
        return try relay(socket: socket, attach)
    }


    /// Waits for a running container's end through its monitor, which says
    /// how it ended even when it then removes a --rm container. nil when
    /// there is no monitor to ask, or it went without saying.
    public func exitCode(of record: ContainerRecord) -> Int32? {
        guard record.isRunning, let path = record.attachSocket, let socket = try? UnixSocket.connect(path: path) else { return nil }
        defer { close(socket) }
        var flags: UInt32 = 0
        guard burrow_frame_write(socket, UInt32(BURROW_FRAME_HELLO), &flags, 4) == 0 else { return nil }
        var payload = [UInt8](repeating: 0, count: 64)
        while true {
            var type: UInt32 = 0
            let n = payload.withUnsafeMutableBytes { burrow_frame_read(socket, &type, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { return nil }
            if type == UInt32(BURROW_FRAME_EXIT) && n >= 4 { return payload.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) } }
        }
    }

    /// The first word of the monitor: the container runs, or why it does not.
    private func awaitStart(_ socket: Int32, id: String) throws {
        var payload = [UInt8](repeating: 0, count: 4096)
        var type: UInt32 = 0
        let n = payload.withUnsafeMutableBytes { burrow_frame_read(socket, &type, $0.baseAddress, UInt32($0.count)) }
        if n < 0 || (type != UInt32(BURROW_FRAME_STARTED) && type != UInt32(BURROW_FRAME_FAILED)) {
            let error = (try? store.container(id))?.flatMap { $0.error }
            throw BurrowError.engine("the container's monitor ended before the container started" + (error.map { ": \($0)" } ?? ""))
        }
        if type == UInt32(BURROW_FRAME_FAILED) {
            let code = n >= 4 ? payload.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) } : 125
            let message = n > 4 ? String(decoding: payload[4..<Int(n)], as: UTF8.self) : "the container did not start"
            switch code {
            case 126: throw BurrowError(.cannotExecute, message)
            case 127: throw BurrowError(.commandNotFound, message)
            default: throw BurrowError.engine(message)
            }
        }
    }

    private func relay(socket: Int32, _ attach: Attachment) throws -> Outcome {
        let result = attach.detachKeys.withUnsafeBufferPointer { keys in
            var config = burrow_attach_config(
                socket_fd: socket, pty_fd: -1, pidfd: -1, stdin_fd: attach.stdin ? 0 : -1, stdout_fd: 1, stderr_fd: 2,
                tty: attach.tty ? 1 : 0, detach_keys: keys.baseAddress, detach_keys_length: keys.count,
                proxy_signals: attach.proxySignals ? 1 : 0)
            return burrow_attach_run(&config)
        }
        switch result {
        case BURROW_ATTACH_DETACHED: return .detached
        case BURROW_ATTACH_LOST: throw BurrowError.engine("the container's monitor went away without saying how the container ended")
        case ..<0: throw SystemError("relay the container's streams", errno: -result)
        default: return .exited(result)
        }
    }

    /// The caller's terminal size, from whichever standard stream is one.
    public static func terminalSize() -> (rows: UInt16, columns: UInt16)? {
        var size = winsize()
        for fd: Int32 in [1, 0, 2] where ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 && size.ws_row > 0 {
            return (size.ws_row, size.ws_col)
        }
        return nil
    }

    /// Starts a helper in a session of its own with `keeping` as its
    /// descriptors 3, 4, ...; returns its pid, or -errno.
    static func spawn(_ arguments: [String], keeping fds: [Int32]) -> Int32 {
        let argv = arguments.map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var cArgv = argv + [nil]
        return burrow_spawn_detached(arguments[0], &cArgv, environ, fds, Int32(fds.count))
    }
}
