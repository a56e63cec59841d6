import BurrowSandbox
import BurrowSystem
import Glibc

enum ContainerExec: Command {
    static let spec = CommandSpec("exec", arguments: "CONTAINER COMMAND [ARG...]", summary: "Run a command in a running container", options: [
        OptionSpec("interactive", short: "i", help: "Keep standard input open"),
        OptionSpec("tty", short: "t", help: "Allocate a pseudo-terminal of the caller's size"),
        OptionSpec("detach", short: "d", help: "Run the command in the background"),
        OptionSpec("env", short: "e", value: "KEY=VALUE", repeatable: true, help: "Set an environment variable; KEY alone passes the caller's value"),
        OptionSpec("env-file", value: "FILE", repeatable: true, help: "Read environment variables from FILE, one KEY=VALUE per line"),
        OptionSpec("workdir", short: "w", value: "DIR", help: "Working directory inside the container"),
        OptionSpec("user", short: "u", value: "USER[:GROUP]", help: "Run as this user and group, by name or number"),
    ], optionsEndAtFirstPositional: true, minimumPositionals: 2)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let name = arguments.positionals[0]
        let id = try store.resolveContainer(name)
        guard let record = try store.currentContainer(id), let config = try store.containerConfig(id) else {
            throw BurrowError.notFound("no such container: \(name)")
        }
        var options = ContainerExecution.Options(command: Array(arguments.positionals.dropFirst()))
        options.environment = arguments.values("env")
        options.environmentFiles = try ContainerOptions.environmentFiles(arguments)
        options.user = arguments.value("user")
        options.workingDirectory = arguments.value("workdir")
        options.interactive = arguments.flag("interactive")
        options.tty = arguments.flag("tty")
        options.detach = arguments.flag("detach")
        if options.tty && options.interactive && !options.detach && isatty(0) != 1 {
            throw BurrowError.invalidArgument("the input device is not a TTY: drop -t, or run burrow from a terminal")
        }
        return try ContainerExecution(store: store).run(record, config, options)
    }
}
