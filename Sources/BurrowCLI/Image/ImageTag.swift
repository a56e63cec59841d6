import BurrowOCI
import BurrowSystem

enum ImageTag: Command {
    static let spec = CommandSpec("tag", arguments: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                                  summary: "Give an image another name", minimumPositionals: 2, maximumPositionals: 2)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let target: ImageReference
        do {
            target = try ImageReference(parsing: arguments.positionals[1])
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }
        guard target.digest == nil else { throw BurrowError.invalidArgument("a tag cannot name a digest: \(arguments.positionals[1])") }
        // Names that would read as an image id later, as Docker refuses them.
        let name = target.familiarRepository
        if name == "sha256" {
            throw BurrowError.invalidArgument("refusing to create an ambiguous tag using the digest algorithm as a name: \(arguments.positionals[1]); choose another name")
        }
        if name.utf8.count == 64 && Hex.isLowercaseHex(Substring(name)) {
            throw BurrowError.invalidArgument("invalid repository name (\(name)): a 64-character hexadecimal name would read as an image id; choose another name")
        }
        let lock = try store.lock(.exclusive)
        defer { _ = lock }
        var tags = try store.tags()
        let id = try store.resolveImage(arguments.positionals[0], tags: tags)
        tags[target.description] = id
        try store.writeTags(tags)
        return 0
    }
}
