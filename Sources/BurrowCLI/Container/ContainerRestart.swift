import BurrowSandbox
import BurrowSystem

enum ContainerRestart: Command {
    static let spec = CommandSpec("restart", arguments: "CONTAINER [CONTAINER...]", summary: "Stop containers, then start them again", options: [
        OptionSpec("time", short: "t", value: "SECONDS", help: "Seconds to wait before SIGKILL (default: the container's --stop-timeout, or 10)"),
        OptionSpec("signal", short: "s", value: "SIGNAL", help: "Signal to stop with (default: the image's StopSignal, or SIGTERM)"),
    ], minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let timeout = try ContainerStop.seconds(arguments.value("time"))
        if let signal = arguments.value("signal") { _ = try ContainerStopper.signal(nil, option: signal) }
        let store = try context.store()
        return context.eachContainer(arguments.positionals) { name in
            let id = try store.resolveContainer(name)
            if try store.containerConfig(id)?.autoRemove == true {
                throw BurrowError.conflict("container \(name) was started with --rm, which removes it when it stops: it cannot be restarted; run it again instead")
            }
            try ContainerStopper(store: store).stop(id, signal: arguments.value("signal"), timeout: timeout)
            _ = try store.updateContainer(id) { $0.restartCount += 1 }
            _ = try MonitorSession(store: store, warn: context.warn).start(id: id, attach: nil)
            context.out(name)
        }
    }
}
