import BurrowSystem
import BurrowOCI

/// An unpacked layer, shared by every image and container above it. Written
/// last into the staging directory, so a layer directory without it is junk.
public struct LayerRecord: JSONRecord, Sendable {
    public var diffID: Digest
    public var size: Int64
    public var entries: Int
    public var whiteouts: String
    public var created: String

    public init(diffID: Digest, size: Int64, entries: Int, whiteouts: String, created: String) {
        self.diffID = diffID
        self.size = size
        self.entries = entries
        self.whiteouts = whiteouts
        self.created = created
    }

    public init(json: JSONValue) throws(RecordError) {
        diffID = try json.requiredDigest("diffID")
        size = try json.requiredInt("size")
        entries = Int(try json.requiredInt("entries"))
        whiteouts = try json.required("whiteouts")
        created = try json.required("created")
    }

    public var json: JSONValue {
        .object([("diffID", .string(diffID.description)), ("size", .number(size)), ("entries", .number(entries)),
                 ("whiteouts", .string(whiteouts)), ("created", .string(created))])
    }
}

/// An image: its configuration (kept verbatim beside this record, so its
/// digest stays its id) and its layers, bottom first.
public struct ImageRecord: JSONRecord, Sendable {
    public var id: Digest
    public var layers: [Digest]
    public var manifestDigest: Digest?
    public var size: Int64
    public var added: String

    public init(id: Digest, layers: [Digest], manifestDigest: Digest?, size: Int64, added: String) {
        self.id = id
        self.layers = layers
        self.manifestDigest = manifestDigest
        self.size = size
        self.added = added
    }

    public init(json: JSONValue) throws(RecordError) {
        id = try json.requiredDigest("id")
        layers = try json.digests("layers")
        manifestDigest = json["manifestDigest"]?.string.flatMap(Digest.init)
        size = try json.requiredInt("size")
        added = try json.required("added")
    }

    public var json: JSONValue {
        .object([("id", .string(id.description)), ("layers", .array(layers.map { .string($0.description) })),
                 ("manifestDigest", .optional(manifestDigest?.description)), ("size", .number(size)), ("added", .string(added))])
    }
}

/// A container as the store keeps it between commands.
public struct ContainerRecord: JSONRecord, Sendable {
    public enum State: String, Sendable { case created, running, exited }

    public var id: String
    public var name: String
    public var imageID: Digest
    public var imageName: String
    public var layers: [Digest]
    public var command: [String]
    public var created: String
    public var state: State
    /// The container's PID 1 on the host while it runs.
    public var pid: Int32? { state == .running ? process?.pid : nil }
    public var exitCode: Int32?
    public var finished: String?
    public var driver: String
    public var autoRemove: Bool
    /// The layer copies the container reads (LayerView); nil is the standard one.
    public var layerView: String?
    public var started: String?
    /// The process the container's PID 1 is a child of: a `burrow __monitor`,
    /// or the `burrow run` that runs it in the foreground. The container
    /// dies with it, so its death ends the container too.
    public var monitor: ProcessIdentity?
    /// The container's PID 1 as the host sees it, with its start time.
    public var process: ProcessIdentity?
    /// Where `attach` connects to the monitor; nil when there is none.
    public var attachSocket: String?
    /// Why the container did not start, or how it ended when burrow had to say.
    public var error: String?
    public var restartCount = 0
    /// The container's cgroup while it runs with cgroup limits.
    public var cgroup: String?
    /// What is mounted into it (`-v`, `--mount`, `--tmpfs`), in the order
    /// given; `volume rm` reads the volume names here. Empty in records
    /// written before containers had mounts.
    public var mounts: [ContainerMount] = []
    /// The ports published while it runs, with the host ports they got.
    public var ports: [PortMapping] = []

    public init(id: String, name: String, imageID: Digest, imageName: String, layers: [Digest], command: [String], created: String, driver: String, autoRemove: Bool) {
        self.id = id
        self.name = name
        self.imageID = imageID
        self.imageName = imageName
        self.layers = layers
        self.command = command
        self.created = created
        self.state = .created
        self.driver = driver
        self.autoRemove = autoRemove
    }

    public init(json: JSONValue) throws(RecordError) {
        id = try json.required("id")
        name = try json.required("name")
        imageID = try json.requiredDigest("imageID")
        imageName = try json.required("imageName")
        layers = try json.digests("layers")
        guard let command = json["command"]?.strings else { throw .missing("command") }
        self.command = command
        created = try json.required("created")
        guard let state = State(rawValue: try json.required("state")) else { throw .missing("state") }
        self.state = state
        exitCode = json["exitCode"]?.int64.map { Int32(truncatingIfNeeded: $0) }
        finished = json["finished"]?.string
        driver = try json.required("driver")
        autoRemove = json["autoRemove"]?.bool ?? false
        layerView = json["layerView"]?.string
        started = json["started"]?.string
        monitor = json["monitor"]?.string.flatMap(ProcessIdentity.init)
        process = json["process"]?.string.flatMap(ProcessIdentity.init)
        attachSocket = json["attachSocket"]?.string
        error = json["error"]?.string
        restartCount = Int(json["restartCount"]?.int64 ?? 0)
        cgroup = json["cgroup"]?.string
        if let items = json["mounts"]?.array {
            var mounts: [ContainerMount] = []
            for item in items { mounts.append(try ContainerMount(json: item)) }
            self.mounts = mounts
        }
        ports = try PortMapping.list(json["ports"])
    }

    public var json: JSONValue {
        .object([("id", .string(id)), ("name", .string(name)), ("imageID", .string(imageID.description)),
                 ("imageName", .string(imageName)), ("layers", .array(layers.map { .string($0.description) })),
                 ("command", .array(command.map { .string($0) })), ("created", .string(created)), ("state", .string(state.rawValue)),
                 ("pid", pid.map { .number($0) } ?? .null), ("exitCode", exitCode.map { .number($0) } ?? .null),
                 ("finished", .optional(finished)), ("driver", .string(driver)), ("autoRemove", .bool(autoRemove)),
                 ("layerView", .optional(layerView)), ("started", .optional(started)),
                 ("monitor", .optional(monitor?.description)), ("process", .optional(process?.description)),
                 ("attachSocket", .optional(attachSocket)), ("error", .optional(error)), ("restartCount", .number(restartCount)),
                 ("cgroup", .optional(cgroup)), ("mounts", .array(mounts.map(\.json))),
                 ("ports", .array(ports.map(\.json)))])
    }
}

/// The tag table: full reference → image id.
public struct TagTable: JSONRecord, Sendable {
    public var tags: [String: Digest]

    public init(_ tags: [String: Digest]) { self.tags = tags }

    public init(json: JSONValue) throws(RecordError) {
        guard let members = json.members else { throw RecordError("not an object") }
        var tags: [String: Digest] = [:]
        for (name, value) in members {
            guard let text = value.string, let digest = Digest(text) else { throw .missing(name) }
            tags[name] = digest
        }
        self.tags = tags
    }

    public var json: JSONValue {
        .object(tags.keys.sorted().map { ($0, .string(tags[$0]!.description)) })
    }
}
