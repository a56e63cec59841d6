import BurrowSandbox
import BurrowSystem

enum ContainerLogs: Command {
    static let spec = CommandSpec("logs", arguments: "CONTAINER", summary: "Print a container's output", options: [
        OptionSpec("follow", short: "f", help: "Keep printing new output until the container ends"),
        OptionSpec("tail", short: "n", value: "N", help: "Only the last N lines (\"all\" for everything)"),
        OptionSpec("timestamps", short: "t", help: "Begin each line with the time it was written"),
    ], minimumPositionals: 1, maximumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        var tail: Int? = nil
        if let text = arguments.value("tail"), text != "all" {
            guard let lines = Int(text), lines >= 0 else {
                throw BurrowError.invalidArgument("invalid --tail \"\(text)\": give a number of lines, or all")
            }
            tail = lines
        }
        let store = try context.store()
        let id = try store.resolveContainer(arguments.positionals[0])
        try ContainerLog.print(store: store, id: id, tail: tail, timestamps: arguments.flag("timestamps"), follow: arguments.flag("follow"))
        return 0
    }
}
