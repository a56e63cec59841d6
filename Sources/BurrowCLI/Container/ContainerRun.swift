import BurrowSandbox
import BurrowStorage
import BurrowSystem
import Glibc

enum ContainerRun: Command {
    static let spec = CommandSpec("run", arguments: "IMAGE [COMMAND [ARG...]]", summary: "Run a command in a new container", options: ContainerOptions.specs + [
        OptionSpec("detach", short: "d", help: "Run the container in the background and print its id"),
        OptionSpec("detach-keys", value: "KEYS", help: "Keys that detach from the container (default ctrl-p,ctrl-q; \"\" for none)"),
        OptionSpec("sig-proxy", help: "Pass the signals burrow gets on to the container (default true; --sig-proxy=false to keep them)"),
        OptionSpec("dry-run", help: "Print the launch plan and exit without running anything"),
    ], optionsEndAtFirstPositional: true, minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        var options = try ContainerOptions.runOptions(arguments, context)
        options.detach = arguments.flag("detach")
        options.dryRun = arguments.flag("dry-run")
        let detachKeys = try ContainerOptions.detachKeys(arguments)
        if options.tty && options.interactive && !options.detach && isatty(0) != 1 {
            throw BurrowError.invalidArgument("the input device is not a TTY: drop -t, or run burrow from a terminal")
        }
        if !options.dryRun { try ContainerOptions.pullImage(arguments, context) }
        let store = try context.store()
        // The fast path: the container is this process's child and shares its
        // streams. Everything else has a monitor that outlives this process.
        if options.dryRun || (options.remove && !options.tty && !options.detach) {
            let runner = ContainerRunner(store: store, identity: context.identity, warn: context.warn, note: context.note)
            return try runner.run(options)
        }
        let record = try ContainerCreation(store: store, identity: context.identity, note: context.note).create(options)
        let attachment = options.detach ? nil : MonitorSession.Attachment(
            stdin: options.interactive, stdinOnce: options.interactive, tty: options.tty, detachKeys: detachKeys,
            proxySignals: !arguments.has("sig-proxy") || arguments.flag("sig-proxy"))
        switch try MonitorSession(store: store, warn: context.warn).start(id: record.id, attach: attachment) {
        case .running:
            context.out(record.id)
            return 0
        case .detached:
            return 0
        case .exited(let code):
            return code
        }
    }
}
