import BurrowSandbox
import BurrowStorage
import BurrowStore
import BurrowSystem
import Glibc

enum ContainerRemove: Command {
    static let spec = CommandSpec("rm", arguments: "CONTAINER [CONTAINER...]", summary: "Remove containers", options: [
        OptionSpec("force", short: "f", help: "Kill a running container first"),
        OptionSpec("volumes", short: "v", help: "Also remove anonymous volumes (a container has none yet)"),
    ], minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        var failed = false
        for name in arguments.positionals {
            do {
                let id = try store.resolveContainer(name)
                guard let record = try store.container(id) else { throw BurrowError.notFound("no such container: \(name)") }
                if ContainerList.state(record).state == "running" {
                    guard arguments.flag("force"), let pid = record.pid else {
                        throw BurrowError.conflict("container \(name) is running: stop it first, or use 'burrow rm -f'")
                    }
                    kill(pid, SIGKILL)
                }
                let filesystem = ContainerFilesystem(layout: store.layout, id: id, driver: StorageDriver(rawValue: record.driver) ?? .overlay)
                ContainerRemoval(store: store, identity: context.identity).remove(record, filesystem: filesystem)
                if FileSystem.exists(store.layout.container(id)) {
                    throw BurrowError.engine("could not remove all files of container \(name) in \(store.layout.container(id))")
                }
                context.out(name)
            } catch {
                Context.standardError("burrow: \(error)\n")
                failed = true
            }
        }
        return failed ? 125 : 0
    }
}
