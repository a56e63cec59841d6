import BurrowLaunch
import BurrowSandbox

/// `burrow __keeper`: holds the user's standing user namespace open.
enum Keeper: Command {
    static let spec = CommandSpec("__keeper", arguments: "PIDFILE", summary: "Internal: hold the user namespace",
                                  minimumPositionals: 1, maximumPositionals: 1, hidden: true)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        StartupPages.release()
        UserNamespaceKeeper.hold(pidFile: arguments.positionals[0])
    }
}
