import BurrowSystem
import FoundationEssentials

/// Records on disk are JSON, read and written whole.
public enum JSONFiles {
    public static func read<T: Decodable>(_ type: T.Type, from path: String) throws -> T? {
        guard let bytes = try FileSystem.readFileIfPresent(path) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw BurrowError.engine("\(path) is damaged (\(error)): remove it, or the store, and load the image again")
        }
    }

    public static func write<T: Encodable>(_ value: T, to path: String, durable: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        try FileSystem.writeAtomically(path, Array(data), mode: 0o600, durable: durable)
    }
}
