import BurrowSandbox
import BurrowSystem

/// `burrow __monitor ID`: the process that runs a container and outlives
/// the command that started it (started by `run` and `start`, descriptor 3
/// connected to that command).
enum Monitor: Command {
    static let spec = CommandSpec("__monitor", arguments: "ID", summary: "Internal: run a container and watch over it", options: [
        OptionSpec("client-flags", value: "N", help: "What the first client attaches"),
        OptionSpec("tty-size", value: "ROWS,COLUMNS", help: "The first client's terminal size"),
        OptionSpec("cgroup", value: "PATH", help: "The container's cgroup, made by the command that started the monitor"),
    ], minimumPositionals: 1, maximumPositionals: 1, hidden: true)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let id = try store.resolveContainer(arguments.positionals[0])
        var size: (rows: UInt16, columns: UInt16)? = nil
        if let text = arguments.value("tty-size") {
            let parts = text.split(separator: ",").compactMap { UInt16($0) }
            if parts.count == 2 { size = (parts[0], parts[1]) }
        }
        let flags = arguments.value("client-flags").flatMap { UInt32($0) } ?? 0
        ContainerMonitor(store: store, identity: context.identity)
            .run(id: id, client: ContainerMonitor.Client(descriptor: 3, flags: flags), terminalSize: size, cgroup: arguments.value("cgroup"))
        return 0
    }
}
