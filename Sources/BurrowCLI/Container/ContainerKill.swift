import BurrowSandbox
import BurrowSystem

enum ContainerKill: Command {
    static let spec = CommandSpec("kill", arguments: "CONTAINER [CONTAINER...]", summary: "Send a signal to running containers", options: [
        OptionSpec("signal", short: "s", value: "SIGNAL", help: "Signal to send (default SIGKILL)"),
    ], minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let text = arguments.value("signal") ?? "SIGKILL"
        guard let signal = SignalNames.number(text) else {
            throw BurrowError.invalidArgument("invalid signal \"\(text)\": use a name such as SIGKILL or a number from 1 to 64")
        }
        let store = try context.store()
        return context.eachContainer(arguments.positionals) { name in
            let id = try store.resolveContainer(name)
            guard let record = try store.currentContainer(id) else { throw BurrowError.notFound("no such container: \(name)") }
            try ContainerAccess(store: store).signal(record, signal)
            context.out(name)
        }
    }
}
