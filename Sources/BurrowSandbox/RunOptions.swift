import BurrowStorage
import BurrowStore

/// What `burrow run` was asked for, after argument parsing.
public struct RunOptions: Sendable {
    /// slirp (the default): a userspace network; none: loopback only; host: the host's.
    public enum Network: String, Sendable { case slirp, none, host }
    public enum UserNamespace: Sendable, Equatable { case rootless, keepID }

    public var image: String
    public var command: [String] = []
    /// nil keeps the image's; "" clears it.
    public var entrypoint: String? = nil
    public var environment: [String] = []
    /// The contents of each --env-file, in order, with its path for messages.
    public var environmentFiles: [(path: String, text: String)] = []
    public var workingDirectory: String? = nil
    public var user: String? = nil
    public var hostname: String? = nil
    public var name: String? = nil
    public var remove = false
    public var interactive = false
    public var network: Network = .slirp
    /// slirp only: the gateway address reaches the host's loopback.
    public var allowHostLoopback = false
    /// -p, parsed; -P adds the image's exposed ports.
    public var publish: [PortMapping] = []
    public var publishAll = false
    public var userNamespace: UserNamespace = .rootless
    public var storageDriver: StorageDriver? = nil
    public var dryRun = false
    /// -t: a pseudo-terminal.
    public var tty = false
    /// -d: the container runs on after burrow returns.
    public var detach = false
    /// --init: burrow-init runs as PID 1.
    public var initProcess = false
    /// --stop-timeout: seconds `stop` waits before SIGKILL.
    public var stopTimeout: Int? = nil
    /// The limit flags as given (kept with the container, read again at each start) and what they mean.
    public var limitFlags: [String: String] = [:]
    public var ulimits: [String] = []
    public var limits = ResourceLimits()
    /// -v, --mount and --tmpfs, parsed.
    public var mounts: [MountSpec] = []
    /// --read-only.
    public var readOnly = false
    /// --host-ca: the host CA bundle to bind into the container, or nil.
    public var hostCA: String? = nil

    public init(image: String) { self.image = image }
}
