import BurrowSandbox
import BurrowStore
import BurrowSystem
import Glibc

/// `burrow container prune`: every container that is not running.
enum ContainerPrune: Command {
    static let spec = CommandSpec("container prune", summary: "Remove all stopped containers", options: [
        OptionSpec("force", short: "f", help: "Do not ask for confirmation"),
    ], maximumPositionals: 0)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        if !arguments.flag("force") {
            guard isatty(0) == 1 else {
                throw BurrowError.invalidArgument("container prune asks for confirmation on a terminal: add -f to prune without asking")
            }
            Context.standardError("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ")
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { return 0 }
        }
        let store = try context.store()
        var removed: [String] = []
        var reclaimed: Int64 = 0
        for record in try store.currentContainers() where !record.isRunning {
            let size = FileSystem.treeSize(store.layout.container(record.id))
            do {
                try ContainerRemove.remove(record, store: store, context: context)
                removed.append(record.id)
                reclaimed += size
            } catch {
                Context.standardError("burrow: \(error)\n")
            }
        }
        if !removed.isEmpty { context.out("Deleted Containers:\n" + removed.joined(separator: "\n") + "\n") }
        context.out("Total reclaimed space: \(HumanSize.format(reclaimed))")
        return 0
    }
}
