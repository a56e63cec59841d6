import BurrowArchive
import BurrowStorage
import BurrowSystem
import Glibc

/// The command line: global options, then a command and its arguments.
public enum CLI {
    static let commands: [any Command.Type] = [
        ContainerRun.self, ContainerCreate.self, ContainerStart.self, ContainerAttach.self, ContainerLogs.self,
        ContainerStop.self, ContainerKill.self, ContainerRestart.self, ContainerWait.self, ContainerExec.self,
        ContainerTop.self, ContainerPort.self, ContainerRename.self, ContainerCopy.self,
        ContainerList.self, ContainerRemove.self, ContainerGroup.self,
        ImageList.self, ImageBuild.self, ImagePull.self, ImagePush.self, RegistryLogin.self, RegistryLogout.self, ImageLoad.self, ImageSave.self, ImageImport.self, ImageTag.self, ImageRemove.self, Inspect.self,
        SystemInfo.self, Version.self, Volume.self, StorageHelper.self, BuildHelper.self, Keeper.self, Monitor.self,
    ]

    static let globalOptions: [OptionSpec] = [
        OptionSpec("root", value: "DIR", help: "Keep images and containers in DIR (also BURROW_ROOT)"),
        OptionSpec("storage-driver", value: "DRIVER", help: "overlay or vfs (also BURROW_STORAGE_DRIVER); chosen automatically otherwise"),
        OptionSpec("version", short: "v", help: "Print the version"),
    ]

    public static var visibleCommands: [CommandSpec] { commands.map { $0.spec }.filter { !$0.hidden } }
    /// Every visible command and subcommand, groups before their members: the tree the man pages cover.
    public static var visibleCommandTree: [CommandSpec] {
        commands.filter { !$0.spec.hidden }.flatMap { command -> [CommandSpec] in
            [command.spec] + ((command as? any CommandGroup.Type)?.visibleSubcommands ?? [])
        }
    }
    public static var allGlobalOptions: [OptionSpec] { globalOptions + [OptionSpec("help", help: "Print usage")] }

    /// Runs the command line and returns the process's exit code.
    public static func main(_ arguments: [String]) -> Int32 {
        do {
            return try dispatch(arguments)
        } catch {
            Context.standardError("burrow: \(error)\n")
            return exitCode(for: error)
        }
    }

    /// Exit codes are decided here and nowhere else: 125 for burrow's own
    /// errors, 126 and 127 when the container's program cannot run or does
    /// not exist; a container's own code passes through as a return value.
    static func exitCode(for error: Error) -> Int32 {
        if let error = error as? BurrowError {
            switch error.code {
            case .cannotExecute: return 126
            case .commandNotFound: return 127
            default: return 125
            }
        }
        return 125
    }

    static func dispatch(_ arguments: [String]) throws -> Int32 {
        var index = 0
        var root: String? = nil
        var driverName: String? = environment("BURROW_STORAGE_DRIVER")
        while index < arguments.count, arguments[index].hasPrefix("-") {
            let argument = arguments[index]
            var value: String? = nil
            var name = argument
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            switch name {
            case "--root", "--storage-driver":
                if value == nil {
                    guard index + 1 < arguments.count else { throw UsageError("flag needs an argument: \(name)") }
                    index += 1
                    value = arguments[index]
                }
                if name == "--root" { root = value } else { driverName = value }
            case "-h", "--help":
                print(Help.general())
                return 0
            case "-v", "--version":
                print("burrow version \(Version.current)")
                return 0
            default:
                throw UsageError("unknown flag: \(argument) (see 'burrow --help')")
            }
            index += 1
        }
        guard index < arguments.count else {
            print(Help.general())
            return 0
        }
        let name = arguments[index]
        if name == "help" {
            // burrow help COMMAND [SUBCOMMAND]
            guard index + 1 < arguments.count, var command = commands.first(where: { $0.spec.name == arguments[index + 1] }) else {
                print(Help.general())
                return 0
            }
            var next = index + 2
            while let group = command as? any CommandGroup.Type {
                guard next < arguments.count, let member = group.subcommand(named: arguments[next]) else {
                    print(Help.group(group))
                    return 0
                }
                command = member
                next += 1
            }
            print(Help.command(command.spec))
            return 0
        }
        guard var command = commands.first(where: { $0.spec.name == name }) else {
            throw UsageError("'\(name)' is not a burrow command: see 'burrow --help'")
        }
        // A group's subcommand is named next: `burrow volume ls`.
        while let group = command as? any CommandGroup.Type {
            let word = index + 1 < arguments.count ? arguments[index + 1] : nil
            guard let word, !word.hasPrefix("-") else {
                if let word, word != "--help" && word != "-h" {
                    throw UsageError("unknown flag: \(word) (see 'burrow \(group.spec.name) --help')")
                }
                print(Help.group(group))
                return 0
            }
            guard let member = group.subcommand(named: word) else {
                throw UsageError("'\(word)' is not a burrow \(group.spec.name) command: see 'burrow \(group.spec.name) --help'")
            }
            command = member
            index += 1
        }
        var driver: StorageDriver? = nil
        if let driverName {
            guard let parsed = StorageDriver(rawValue: driverName) else {
                throw UsageError("storage driver \"\(driverName)\" is unknown: use overlay or vfs")
            }
            driver = parsed
        }
        let parsed = try ArgumentParser.parse(Array(arguments[(index + 1)...]), for: command.spec)
        if parsed.flag("help") && !(command.spec.optionsEndAtFirstPositional && !parsed.positionals.isEmpty) {
            print(Help.command(command.spec))
            return 0
        }
        let context = Context(rootOption: root, storageDriver: driver, arguments: arguments)
        return try command.run(parsed, context)
    }
}
