import BurrowOCI

/// How a container runs, decided once when it is created (`create`, `run`)
/// and read by every start: the image's configuration and the options,
/// resolved with Docker's rules. Kept beside the record, never rewritten.
public struct ContainerConfig: JSONRecord, Sendable, Equatable {
    /// The image as the user named it, and what it resolved to.
    public var image: String
    public var imageID: Digest
    public var layers: [Digest]
    public var driver: String
    /// The layer copies the container reads (LayerView); nil is the standard one.
    public var layerView: String?

    /// Entrypoint and Cmd as they were combined, for `inspect`.
    public var entrypoint: [String]
    public var cmd: [String]
    /// The program and its arguments: entrypoint + cmd.
    public var arguments: [String]
    public var environment: [String]
    public var workingDirectory: String
    /// `-u` as given (or the image's USER), and the ids it resolved to.
    public var user: String
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups from the image's /etc/group.
    public var groups: [UInt32]
    public var hostname: String
    /// "slirp", "none" or "host".
    public var network: String
    /// slirp only: the container reaches the host's loopback through the gateway.
    public var allowHostLoopback = false
    /// -p and -P: what to publish (host port 0: any free one).
    public var publish: [PortMapping] = []
    /// "" (root inside is the user) or "keep-id".
    public var userNamespace: String

    public var tty: Bool
    /// -i: the container's standard input stays open.
    public var openStdin: Bool
    /// Standard input closes when the first attached client's input ends (`run -i` in the foreground).
    public var stdinOnce: Bool
    public var autoRemove: Bool
    /// --init: a small init runs as PID 1 and starts the program.
    public var initProcess: Bool
    /// The image's StopSignal (a name or number); nil is SIGTERM.
    public var stopSignal: String?
    /// Seconds `stop` waits before SIGKILL; nil is 10.
    public var stopTimeout: Int?
    /// --memory, --cpus and the other cgroup limits, by flag name, as given;
    /// read again at each start.
    public var limitFlags: [String: String] = [:]
    /// Each --ulimit as given.
    public var ulimits: [String] = []
    /// -v, --mount and --tmpfs as they were resolved at creation (volumes
    /// made and filled then), in the order given.
    public var mounts: [ContainerMount] = []
    /// --read-only.
    public var readOnlyRoot = false
    /// --host-ca: the host's CA bundle, bound read-only where the image's
    /// TLS libraries look for theirs (HostCA); nil for none.
    public var hostCA: String? = nil

    public init(image: String, imageID: Digest, layers: [Digest], driver: String, entrypoint: [String], cmd: [String],
                arguments: [String], environment: [String], workingDirectory: String, user: String, uid: UInt32, gid: UInt32,
                groups: [UInt32], hostname: String, network: String) {
        self.image = image
        self.imageID = imageID
        self.layers = layers
        self.driver = driver
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.hostname = hostname
        self.network = network
        self.userNamespace = ""
        self.tty = false
        self.openStdin = false
        self.stdinOnce = false
        self.autoRemove = false
        self.initProcess = false
    }

    public init(json: JSONValue) throws(RecordError) {
        image = try json.required("image")
        imageID = try json.requiredDigest("imageID")
        layers = try json.digests("layers")
        driver = try json.required("driver")
        layerView = json["layerView"]?.string
        guard let entrypoint = json["entrypoint"]?.strings, let cmd = json["cmd"]?.strings,
              let arguments = json["arguments"]?.strings, let environment = json["environment"]?.strings else {
            throw .missing("arguments")
        }
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.arguments = arguments
        self.environment = environment
        workingDirectory = try json.required("workingDirectory")
        user = try json.required("user")
        uid = UInt32(truncatingIfNeeded: try json.requiredInt("uid"))
        gid = UInt32(truncatingIfNeeded: try json.requiredInt("gid"))
        groups = (json["groups"]?.array ?? []).compactMap { $0.int64.map { UInt32(truncatingIfNeeded: $0) } }
        hostname = try json.required("hostname")
        network = try json.required("network")
        userNamespace = json["userNamespace"]?.string ?? ""
        tty = json["tty"]?.bool ?? false
        openStdin = json["openStdin"]?.bool ?? false
        stdinOnce = json["stdinOnce"]?.bool ?? false
        autoRemove = json["autoRemove"]?.bool ?? false
        initProcess = json["init"]?.bool ?? false
        stopSignal = json["stopSignal"]?.string
        stopTimeout = json["stopTimeout"]?.int64.map { Int($0) }
        for (flag, value) in json["limits"]?.members ?? [] { if let text = value.string { limitFlags[flag] = text } }
        ulimits = json["ulimits"]?.strings ?? []
        for item in json["mounts"]?.array ?? [] { mounts.append(try ContainerMount(json: item)) }
        readOnlyRoot = json["readOnlyRoot"]?.bool ?? false
        allowHostLoopback = json["allowHostLoopback"]?.bool ?? false
        publish = try PortMapping.list(json["publish"])
        hostCA = json["hostCA"]?.string
    }

    public var json: JSONValue {
        .object([
            ("image", .string(image)), ("imageID", .string(imageID.description)),
            ("layers", .array(layers.map { .string($0.description) })), ("driver", .string(driver)),
            ("layerView", .optional(layerView)),
            ("entrypoint", .array(entrypoint.map { .string($0) })), ("cmd", .array(cmd.map { .string($0) })),
            ("arguments", .array(arguments.map { .string($0) })), ("environment", .array(environment.map { .string($0) })),
            ("workingDirectory", .string(workingDirectory)), ("user", .string(user)),
            ("uid", .number(uid)), ("gid", .number(gid)), ("groups", .array(groups.map { .number($0) })),
            ("hostname", .string(hostname)), ("network", .string(network)), ("userNamespace", .string(userNamespace)),
            ("tty", .bool(tty)), ("openStdin", .bool(openStdin)), ("stdinOnce", .bool(stdinOnce)),
            ("autoRemove", .bool(autoRemove)), ("init", .bool(initProcess)),
            ("stopSignal", .optional(stopSignal)), ("stopTimeout", stopTimeout.map { .number($0) } ?? .null),
            ("limits", .object(limitFlags.keys.sorted().map { ($0, .string(limitFlags[$0]!)) })),
            ("ulimits", .array(ulimits.map { .string($0) })),
            ("mounts", .array(mounts.map(\.json))), ("readOnlyRoot", .bool(readOnlyRoot)),
            ("allowHostLoopback", .bool(allowHostLoopback)), ("publish", .array(publish.map(\.json))),
            ("hostCA", .optional(hostCA)),
        ])
    }
}
