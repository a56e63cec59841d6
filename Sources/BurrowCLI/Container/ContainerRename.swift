import BurrowSandbox
import BurrowSystem

enum ContainerRename: Command {
    static let spec = CommandSpec("rename", arguments: "CONTAINER NEW_NAME", summary: "Rename a container",
                                  minimumPositionals: 2, maximumPositionals: 2)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let newName = arguments.positionals[1].hasPrefix("/") ? String(arguments.positionals[1].dropFirst()) : arguments.positionals[1]
        guard ContainerNames.isValid(newName) else {
            throw BurrowError.invalidArgument("invalid container name \"\(newName)\": use 1 to 128 of [a-zA-Z0-9_.-], starting with a letter or digit")
        }
        let id = try store.resolveContainer(arguments.positionals[0])
        guard let old = try store.container(id)?.name else { throw BurrowError.notFound("no such container: \(arguments.positionals[0])") }
        if old == newName {
            throw BurrowError.conflict("renaming a container with the same name as its current name: choose another name")
        }
        try store.reserveName(newName, for: id)
        do {
            try store.updateContainer(id) { $0.name = newName }
        } catch {
            store.releaseName(newName, of: id)
            throw error
        }
        store.releaseName(old, of: id)
        return 0
    }
}
