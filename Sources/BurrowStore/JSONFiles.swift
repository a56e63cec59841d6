import BurrowOCI
import BurrowSystem

/// A record the store keeps as a JSON file. Records are read on every
/// container start, so they go through JSONValue, not JSONDecoder.
public protocol JSONRecord {
    init(json: JSONValue) throws(RecordError)
    var json: JSONValue { get }
}

/// A record file that does not hold what its type needs.
public struct RecordError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }

    public static func missing(_ field: String) -> RecordError { RecordError("missing or malformed \"\(field)\"") }
}

extension JSONValue {
    public func required(_ key: String) throws(RecordError) -> String {
        guard let value = self[key]?.string else { throw .missing(key) }
        return value
    }

    public func requiredDigest(_ key: String) throws(RecordError) -> Digest {
        guard let text = self[key]?.string, let digest = Digest(text) else { throw .missing(key) }
        return digest
    }

    public func requiredInt(_ key: String) throws(RecordError) -> Int64 {
        guard let value = self[key]?.int64 else { throw .missing(key) }
        return value
    }

    public func digests(_ key: String) throws(RecordError) -> [Digest] {
        guard let items = self[key]?.array else { throw .missing(key) }
        var digests: [Digest] = []
        for item in items {
            guard let text = item.string, let digest = Digest(text) else { throw .missing(key) }
            digests.append(digest)
        }
        return digests
    }

    public static func number<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }
    public static func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
}

/// Records on disk are JSON, read and written whole.
public enum JSONFiles {
    public static func read<T: JSONRecord>(_ type: T.Type, from path: String) throws -> T? {
        guard let bytes = try FileSystem.readFileIfPresent(path) else { return nil }
        do {
            return try T(json: try JSONValue(parsing: bytes))
        } catch {
            throw BurrowError.engine("\(path) is damaged (\(error)): remove it, or the store, and load the image again")
        }
    }

    public static func write<T: JSONRecord>(_ value: T, to path: String, durable: Bool = false) throws {
        try FileSystem.writeAtomically(path, Array(value.json.serialized.utf8), mode: 0o600, durable: durable)
    }
}
