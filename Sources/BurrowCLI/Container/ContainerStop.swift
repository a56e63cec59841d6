import BurrowSandbox
import BurrowSystem

enum ContainerStop: Command {
    static let spec = CommandSpec("stop", arguments: "CONTAINER [CONTAINER...]", summary: "Stop running containers", options: [
        OptionSpec("time", short: "t", value: "SECONDS", help: "Seconds to wait before SIGKILL (default: the container's --stop-timeout, or 10)"),
        OptionSpec("signal", short: "s", value: "SIGNAL", help: "Signal to stop with (default: the image's StopSignal, or SIGTERM)"),
    ], minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let timeout = try seconds(arguments.value("time"))
        if let signal = arguments.value("signal") { _ = try ContainerStopper.signal(nil, option: signal) }
        let store = try context.store()
        return context.eachContainer(arguments.positionals) { name in
            let id = try store.resolveContainer(name)
            try ContainerStopper(store: store).stop(id, signal: arguments.value("signal"), timeout: timeout)
            context.out(name)
        }
    }

    static func seconds(_ text: String?) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), value >= -1 else {
            throw BurrowError.invalidArgument("invalid time \"\(text)\": give a number of seconds (-1 waits as long as it takes)")
        }
        return value
    }
}
