import BurrowLaunch
import BurrowStore
import BurrowSystem
import Glibc

/// burrow-net, the process that runs one container's userspace network
/// (libslirp on its TAP device) and the forwarders of its published TCP
/// ports. A child of the container's monitor, which stops it when the
/// container ends; it dies with the monitor too.
public final class NetworkHelper {
    public let pid: Int32
    private var stopped = false

    private init(pid: Int32) { self.pid = pid }

    /// The helper program, built beside burrow.
    public static func binary() throws -> String {
        let path = HostSystem.executablePath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") + "/burrow-net"
        guard access(path, X_OK) == 0 else {
            throw BurrowError.notFound("--network slirp needs burrow-net beside burrow, at \(path): build it with scripts/build.sh, or run with --network host or none")
        }
        return path
    }

    /// Starts the network on `end` (the child's TAP device and namespaces),
    /// with the ports bound for it. With ports to publish it returns once
    /// they are, so a client that connects at once is served.
    public static func start(_ end: NetworkEnd, ports: [PortBinding.Bound], allowHostLoopback: Bool) throws -> NetworkHelper {
        let path = try binary()
        let (readyRead, readyWrite) = try UnixSocket.pipe()
        let ready = FileDescriptor(adopting: readyRead)
        var keep = [end.device, end.network, end.user, readyWrite]
        var arguments = [path, "--tap", "3", "--netns", "4", "--userns", "5", "--ready", "6"]
        if allowHostLoopback { arguments.append("--allow-host-loopback") }
        if let resolver = getenv("BURROW_RESOLV_CONF") { arguments += ["--resolv-conf", String(cString: resolver)] }
        for port in ports {
            arguments += ["--\(port.mapping.transport.rawValue)", "\(3 + keep.count):\(port.mapping.containerPort)"]
            keep.append(port.socket)
        }
        let pid = MonitorSession.spawn(arguments, keeping: keep)
        close(readyWrite)
        if pid < 0 { throw SystemError("start the container's network", path: path, errno: -pid) }
        let helper = NetworkHelper(pid: pid)
        guard !ports.isEmpty else { return helper }
        let answer = String(decoding: (try? ready.readToEnd()) ?? [], as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard answer == "ok" else {
            helper.stop()
            throw BurrowError.engine("the container's network did not start: \(answer.isEmpty ? "burrow-net ended" : answer)")
        }
        return helper
    }

    /// Ends the network (the container has ended) and reaps the helper;
    /// once only, so a reaped pid is never signalled again.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
