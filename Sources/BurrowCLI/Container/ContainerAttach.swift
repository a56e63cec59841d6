import BurrowSandbox
import BurrowSystem

enum ContainerAttach: Command {
    static let spec = CommandSpec("attach", arguments: "CONTAINER", summary: "Attach to a running container's input and output", options: [
        OptionSpec("no-stdin", help: "Do not attach standard input"),
        OptionSpec("sig-proxy", help: "Pass the signals burrow gets on to the container (default true; --sig-proxy=false to keep them)"),
        OptionSpec("detach-keys", value: "KEYS", help: "Keys that detach from the container (default ctrl-p,ctrl-q)"),
    ], minimumPositionals: 1, maximumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let id = try store.resolveContainer(arguments.positionals[0])
        guard let record = try store.currentContainer(id), let config = try store.containerConfig(id) else {
            throw BurrowError.notFound("no such container: \(arguments.positionals[0])")
        }
        guard record.isRunning else {
            throw BurrowError.conflict("you cannot attach to a stopped container: start it first ('burrow start -a \(arguments.positionals[0])')")
        }
        let attachment = MonitorSession.Attachment(
            stdin: config.openStdin && !arguments.flag("no-stdin"), stdinOnce: false, tty: config.tty,
            detachKeys: try ContainerOptions.detachKeys(arguments),
            proxySignals: !arguments.has("sig-proxy") || arguments.flag("sig-proxy"))
        switch try MonitorSession(store: store).attach(record, attachment) {
        case .running, .detached: return 0
        case .exited(let code): return code
        }
    }
}
