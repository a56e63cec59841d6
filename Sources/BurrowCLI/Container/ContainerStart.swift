import BurrowSandbox
import BurrowStore
import BurrowSystem

enum ContainerStart: Command {
    static let spec = CommandSpec("start", arguments: "CONTAINER [CONTAINER...]", summary: "Start created or stopped containers", options: [
        OptionSpec("attach", short: "a", help: "Attach to the container's output and wait for it to end"),
        OptionSpec("interactive", short: "i", help: "Attach standard input too"),
        OptionSpec("detach-keys", value: "KEYS", help: "Keys that detach from the container (default ctrl-p,ctrl-q)"),
    ], minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let attach = arguments.flag("attach") || arguments.flag("interactive")
        if attach && arguments.positionals.count > 1 {
            throw BurrowError.invalidArgument("you cannot start and attach several containers at once: start them one by one")
        }
        let detachKeys = try ContainerOptions.detachKeys(arguments)
        var failed = false
        for name in arguments.positionals {
            do {
                let id = try store.resolveContainer(name)
                guard let record = try store.currentContainer(id), let config = try store.containerConfig(id) else {
                    throw BurrowError.notFound("no such container: \(name)")
                }
                let attachment = attach ? MonitorSession.Attachment(
                    stdin: arguments.flag("interactive") && config.openStdin, stdinOnce: config.stdinOnce, tty: config.tty,
                    detachKeys: detachKeys, proxySignals: true) : nil
                if record.isRunning {
                    guard var attachment else {
                        context.out(name)
                        continue
                    }
                    attachment.stdinOnce = false
                    switch try MonitorSession(store: store).attach(record, attachment) {
                    case .running, .detached: return 0
                    case .exited(let code): return code
                    }
                }
                switch try MonitorSession(store: store, warn: context.warn).start(id: id, attach: attachment) {
                case .running: context.out(name)
                case .detached: return 0
                case .exited(let code): return code
                }
            } catch {
                if attach { throw error }
                Context.standardError("burrow: \(error)\n")
                failed = true
            }
        }
        return failed ? 125 : 0
    }
}
