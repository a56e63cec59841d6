import BurrowOCI

/// One mount of a container (`-v`, `--mount`, `--tmpfs`) as it was resolved
/// at creation: what each start mounts, what `inspect` shows, what `volume
/// rm` reads to see a volume in use.
public struct ContainerMount: Sendable, Equatable {
    public var type: String
    /// The host path bound (a volume's _data); nil for a tmpfs.
    public var source: String?
    public var target: String
    public var readOnly: Bool
    public var volume: String?
    /// The source is a file: a missing target is made a file.
    public var isFile: Bool
    public var nonRecursive: Bool
    /// A tmpfs's mount(2) flags and its own options.
    public var flags: UInt64
    public var data: [String]

    public init(type: String, source: String?, target: String, readOnly: Bool, volume: String?, isFile: Bool = false,
                nonRecursive: Bool = false, flags: UInt64 = 0, data: [String] = []) {
        self.type = type
        self.source = source
        self.target = target
        self.readOnly = readOnly
        self.volume = volume
        self.isFile = isFile
        self.nonRecursive = nonRecursive
        self.flags = flags
        self.data = data
    }

    init(json: JSONValue) throws(RecordError) {
        type = try json.required("type")
        source = json["source"]?.string
        target = try json.required("target")
        readOnly = json["readOnly"]?.bool ?? false
        volume = json["volume"]?.string
        isFile = json["isFile"]?.bool ?? false
        nonRecursive = json["nonRecursive"]?.bool ?? false
        flags = UInt64(json["flags"]?.int64 ?? 0)
        data = json["data"]?.strings ?? []
    }

    var json: JSONValue {
        .object([("type", .string(type)), ("source", .optional(source)), ("target", .string(target)), ("readOnly", .bool(readOnly)),
                 ("volume", .optional(volume)), ("isFile", .bool(isFile)), ("nonRecursive", .bool(nonRecursive)),
                 ("flags", .number(flags)), ("data", .array(data.map { .string($0) }))])
    }
}
