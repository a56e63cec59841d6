import BurrowSystem

enum ContainerPort: Command {
    static let spec = CommandSpec("port", arguments: "CONTAINER [PRIVATE_PORT[/PROTO]]", summary: "List a container's published ports",
                                  minimumPositionals: 1, maximumPositionals: 2)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let name = arguments.positionals[0]
        _ = try store.resolveContainer(name)
        // No container publishes ports yet: there is only none and host networking.
        if arguments.positionals.count == 2 {
            var port = arguments.positionals[1]
            if !port.contains("/") { port += "/tcp" }
            throw BurrowError.notFound("no public port '\(port)' published for \(name)")
        }
        return 0
    }
}
