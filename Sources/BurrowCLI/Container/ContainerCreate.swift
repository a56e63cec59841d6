import BurrowSandbox
import BurrowSystem

enum ContainerCreate: Command {
    static let spec = CommandSpec("create", arguments: "IMAGE [COMMAND [ARG...]]", summary: "Create a container without starting it",
                                  options: ContainerOptions.specs, optionsEndAtFirstPositional: true, minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let options = try ContainerOptions.runOptions(arguments, context)
        try ContainerOptions.pullImage(arguments, context)
        let record = try ContainerCreation(store: try context.store(), identity: context.identity, note: context.note).create(options)
        context.out(record.id)
        return 0
    }
}
