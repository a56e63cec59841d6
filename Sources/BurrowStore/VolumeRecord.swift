import BurrowOCI
import BurrowSystem

/// A volume: a directory of the store that outlives the containers it is
/// mounted into. Kept in `volumes/NAME/volume.json`, beside `_data`.
public struct VolumeRecord: JSONRecord, Sendable, Equatable {
    public var name: String
    public var created: String
    /// Always "local": the only driver there is.
    public var driver: String
    public var labels: [String: String]
    /// The driver's options; the local driver of burrow takes none.
    public var options: [String: String]
    /// The `_data` directory on the host. Set from the store's layout when
    /// read, so a store moved elsewhere still names its own directories.
    public var mountpoint: String

    /// The label Docker (since 23.0) puts on a volume made for one container
    /// (`-v /path`); `volume prune` removes only these unless told `--all`.
    public static let anonymousLabel = "com.docker.volume.anonymous"

    public init(name: String, created: String, labels: [String: String] = [:], mountpoint: String) {
        self.name = name
        self.created = created
        self.driver = "local"
        self.labels = labels
        self.options = [:]
        self.mountpoint = mountpoint
    }

    public var isAnonymous: Bool { labels[VolumeRecord.anonymousLabel] != nil }

    public init(json: JSONValue) throws(RecordError) {
        name = try json.required("name")
        created = try json.required("created")
        driver = json["driver"]?.string ?? "local"
        labels = try VolumeRecord.map(json, "labels")
        options = try VolumeRecord.map(json, "options")
        mountpoint = json["mountpoint"]?.string ?? ""
    }

    public var json: JSONValue {
        .object([("name", .string(name)), ("created", .string(created)), ("driver", .string(driver)),
                 ("labels", .object(labels.keys.sorted().map { ($0, .string(labels[$0]!)) })),
                 ("options", .object(options.keys.sorted().map { ($0, .string(options[$0]!)) })),
                 ("mountpoint", .string(mountpoint))])
    }

    private static func map(_ json: JSONValue, _ key: String) throws(RecordError) -> [String: String] {
        guard let value = json[key], !value.isNull else { return [:] }
        guard let members = value.members else { throw .missing(key) }
        var result: [String: String] = [:]
        for (name, item) in members {
            guard let text = item.string else { throw .missing(key) }
            result[name] = text
        }
        return result
    }

    /// The names the local driver takes, as Docker's: two or more of
    /// [a-zA-Z0-9_.-], starting with a letter or digit, with its messages.
    public static func validateName(_ name: String) throws {
        if name.count == 1 {
            throw BurrowError.invalidArgument("create \(name): volume name is too short, names should be at least two alphanumeric characters")
        }
        func allowed(_ byte: UInt8, first: Bool) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
            case UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"): return !first
            default: return false
            }
        }
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.enumerated().allSatisfy({ allowed($1, first: $0 == 0) }) else {
            throw BurrowError.invalidArgument("create \(name): \"\(name)\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")
        }
    }
}
