import BurrowOCI
import BurrowStore
import BurrowSystem

enum ImageRemove: Command {
    static let spec = CommandSpec("rmi", arguments: "IMAGE [IMAGE...]", summary: "Remove images", options: [
        OptionSpec("force", short: "f", help: "Remove an image even when it has several tags or containers use it"),
    ], minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        if let code = try context.reenterUserNamespace() { return code }
        let store = try context.store()
        store.sweepStaging()
        let force = arguments.flag("force")
        var failed = false
        for name in arguments.positionals {
            do {
                for line in try remove(name, store: store, force: force) { context.out(line) }
            } catch {
                Context.standardError("burrow: \(error)\n")
                failed = true
            }
        }
        return failed ? 125 : 0
    }

    /// Untags by name; removes the image once no tag is left, and each of its
    /// layers once no other image or container uses it.
    static func remove(_ name: String, store: Store, force: Bool) throws -> [String] {
        let lock = try store.lock(.exclusive)
        defer { _ = lock }
        var tags = try store.tags()
        let id: Digest
        do {
            id = try store.resolveImage(name, tags: tags)
        } catch let error as BurrowError where error.code == .notFound {
            // Advice on getting an image is no help to one removing it.
            throw BurrowError.notFound("no such image: \(name) (burrow images lists them)")
        }
        guard let record = try store.imageRecord(id) else { throw BurrowError.notFound("image \(name) is not in the store") }
        var output: [String] = []
        let named = (try? ImageReference(parsing: name)).flatMap { tags[$0.description] == id ? $0 : nil }
        let references = store.references(of: id, in: tags)

        if let named, references.count > 1 {
            tags[named.description] = nil
            try store.writeTags(tags)
            return ["Untagged: \(named.familiar)"]
        }
        if named == nil && references.count > 1 && !force {
            throw BurrowError.conflict("unable to delete \(id.short) (must be forced): the image is tagged \(references.map(\.familiar).joined(separator: ", "))")
        }
        let users = try store.containers().filter { $0.imageID == id }
        if let user = users.first, !force {
            throw BurrowError.conflict("unable to remove \(name) (must be forced): container \(user.id.prefix(12)) (\(user.name)) uses it; remove the container first with 'burrow rm'")
        }
        for reference in references {
            tags[reference.description] = nil
            output.append("Untagged: \(reference.familiar)")
        }
        try store.writeTags(tags)
        try store.deleteImage(id)
        output.append("Deleted: \(id)")
        for layer in try store.unusedLayers(among: record.layers) {
            try store.deleteLayer(layer)
            output.append("Deleted: \(layer)")
        }
        for layer in try store.orphanLayers() { try store.deleteLayer(layer) }
        return output
    }
}
