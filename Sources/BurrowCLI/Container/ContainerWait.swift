import BurrowSandbox
import BurrowSystem

enum ContainerWait: Command {
    static let spec = CommandSpec("wait", arguments: "CONTAINER [CONTAINER...]", summary: "Wait for containers to end and print their exit codes",
                                  minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        return context.eachContainer(arguments.positionals) { name in
            let id = try store.resolveContainer(name)
            guard let record = try store.currentContainer(id) else { throw BurrowError.notFound("no such container: \(name)") }
            if let code = MonitorSession(store: store).exitCode(of: record) {
                // A --rm container is removed after its end is told: gone once wait returns.
                if (try? store.containerConfig(id))?.autoRemove == true {
                    ContainerAccess(store: store).waitForMonitor(of: record, timeout: 10)
                }
                context.out(String(code))
                return
            }
            guard let ended = try ContainerAccess(store: store).waitForEnd(id, timeout: nil) else {
                throw BurrowError.notFound("container \(name) was removed before it ended")
            }
            context.out(String(ended.exitCode ?? 0))
        }
    }
}
