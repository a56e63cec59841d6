import BurrowSandbox
import BurrowStorage
import BurrowStore
import BurrowSystem
import Glibc

enum ContainerRemove: Command {
    static let spec = CommandSpec("rm", arguments: "CONTAINER [CONTAINER...]", summary: "Remove containers", options: [
        OptionSpec("force", short: "f", help: "Kill a running container first"),
        OptionSpec("volumes", short: "v", help: "Also remove the container's anonymous volumes"),
    ], minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        // Inside the user namespace: the container's files may belong to
        // subordinate ids, and so may the layers a forced rmi left behind.
        if let code = try context.reenterUserNamespace() { return code }
        let store = try context.store()
        store.sweepStaging()
        var failed = false
        for name in arguments.positionals {
            do {
                let id = try store.resolveContainer(name)
                guard let record = try store.container(id) else { throw BurrowError.notFound("no such container: \(name)") }
                if ContainerList.state(record).state == "running" {
                    guard arguments.flag("force"), let pid = record.pid else {
                        throw BurrowError.conflict("container \(name) is running: let it finish, or use 'burrow rm -f' to kill it")
                    }
                    kill(pid, SIGKILL)
                }
                let filesystem = ContainerFilesystem(layout: store.layout, id: id, driver: StorageDriver(rawValue: record.driver) ?? .overlay,
                                                     layerView: record.layerView ?? LayerView.standard)
                ContainerRemoval(store: store, identity: context.identity).remove(record, filesystem: filesystem)
                if FileSystem.exists(store.layout.container(id)) {
                    throw BurrowError.engine("could not remove all files of container \(name) in \(store.layout.container(id))")
                }
                if arguments.flag("volumes") { ContainerMounts.removeAnonymousVolumes(of: record, store: store, identity: context.identity) }
                context.out(name)
            } catch {
                Context.standardError("burrow: \(error)\n")
                failed = true
            }
        }
        if let lock = try? store.lock(.exclusive) {
            for layer in (try? store.orphanLayers()) ?? [] { try? store.deleteLayer(layer) }
            _ = lock
        }
        return failed ? 125 : 0
    }
}
