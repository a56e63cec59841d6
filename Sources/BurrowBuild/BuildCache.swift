import BurrowOCI
import BurrowSystem
import FoundationEssentials

/// The step cache of `burrow build`: one small file per step key under the
/// store's build-cache/, naming the layers the step left. A layer removed
/// from the store since (by `rmi`) makes the entry a miss.
struct BuildCache {
    let directory: String

    struct Entry: Codable {
        var layers: [Digest]
        /// When the step ran: the image's `created`, so an unchanged rebuild gives the same image id.
        var created: String
    }

    func path(_ key: String) -> String { "\(directory)/\(key.dropFirst(7))" }

    func lookup(_ key: String) -> Entry? {
        guard let bytes = try? FileSystem.readFile(path(key)) else { return nil }
        return try? JSONDecoder().decode(Entry.self, from: Data(bytes))
    }

    func store(_ key: String, _ entry: Entry) {
        guard let bytes = try? JSONEncoder().encode(entry) else { return }
        try? FileSystem.makeDirectories(directory, mode: 0o700)
        try? FileSystem.writeAtomically(path(key), Array(bytes), mode: 0o600)
    }
}
