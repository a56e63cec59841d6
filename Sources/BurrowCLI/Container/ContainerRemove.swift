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
        let store = try context.store()
        let code = context.eachContainer(arguments.positionals) { name in
            let id = try store.resolveContainer(name)
            guard let record = try store.currentContainer(id) else { throw BurrowError.notFound("no such container: \(name)") }
            if record.isRunning {
                guard arguments.flag("force") else {
                    throw BurrowError.conflict("container \(name) is running: stop it first, or use 'burrow rm -f' to kill it")
                }
                try ContainerStopper(store: store).stop(id, signal: "SIGKILL", timeout: 0)
            }
            // A --rm container's monitor may have removed it meanwhile.
            if let record = try store.container(id) {
                try remove(record, store: store, context: context)
                if arguments.flag("volumes") { ContainerMounts.removeAnonymousVolumes(of: record, store: store, identity: context.identity) }
            }
            context.out(name)
        }
        if let lock = try? store.lock(.exclusive) {
            for layer in (try? store.orphanLayers()) ?? [] { try? store.deleteLayer(layer) }
            _ = lock
        }
        return code
    }

    /// The record, name and files; files of subordinate ids are deleted as
    /// root of the user namespace.
    static func remove(_ record: ContainerRecord, store: Store, context: Context) throws {
        // A cgroup its killed monitor could not remove.
        if let cgroup = record.cgroup { try? ContainerCgroup.remove(path: cgroup) }
        let filesystem = ContainerFilesystem(layout: store.layout, id: record.id, driver: StorageDriver(rawValue: record.driver) ?? .overlay,
                                             layerView: record.layerView ?? LayerView.standard)
        if !filesystem.remove() {
            let mapping = try context.identity.mapping(.rootless)
            if mapping.needsHelpers { _ = ContainerLaunch(store: store, identity: context.identity).joinStandingNamespace(mapping) }
        }
        ContainerRemoval(store: store, identity: context.identity).remove(record, filesystem: filesystem)
        if FileSystem.exists(store.layout.container(record.id)) {
            throw BurrowError.engine("could not remove all files of container \(record.name) in \(store.layout.container(record.id))")
        }
    }
}
