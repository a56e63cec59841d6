import BurrowSandbox
import BurrowStore
import BurrowSystem

/// `burrow volume rm`: refused while a container uses the volume, whatever
/// `--force` says (as in Docker, where it only silences a missing name).
enum VolumeRemove: Command {
    static let spec = CommandSpec("volume rm", arguments: "VOLUME [VOLUME...]", summary: "Remove one or more volumes", options: [
        OptionSpec("force", short: "f", help: "Say nothing about volumes that do not exist"),
    ], minimumPositionals: 1, aliases: ["remove"])

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        // Inside the user namespace: a volume's files may belong to subordinate ids.
        if let code = try context.reenterUserNamespace() { return code }
        let store = try context.store()
        store.sweepStaging()
        let lock = try store.lock(.exclusive)
        defer { _ = lock }
        let removal = VolumeRemoval(store: store, identity: context.identity)
        var failed = false
        for name in arguments.positionals {
            do {
                try removal.remove(name)
                context.out(name)
            } catch let error as BurrowError where error.code == .notFound && arguments.flag("force") {
                continue
            } catch {
                Context.standardError("burrow: \(error)\n")
                failed = true
            }
        }
        return failed ? 125 : 0
    }
}
