import BurrowSandbox
import BurrowStore
import BurrowSystem

enum ContainerPort: Command {
    static let spec = CommandSpec("port", arguments: "CONTAINER [PRIVATE_PORT[/PROTO]]", summary: "List a container's published ports",
                                  minimumPositionals: 1, maximumPositionals: 2)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let name = arguments.positionals[0]
        let id = try store.resolveContainer(name)
        let ports = try store.currentContainer(id).map { $0.isRunning ? ordered($0.ports) : [] } ?? []
        guard arguments.positionals.count == 2 else {
            for port in ports { context.out("\(port.containerKey) -> \(port.hostEndpoint)") }
            return 0
        }
        var key = arguments.positionals[1].lowercased()
        if !key.contains("/") { key += "/tcp" }
        let matching = ports.filter { $0.containerKey == key }
        guard !matching.isEmpty else { throw BurrowError.notFound("no public port '\(key)' published for \(name)") }
        for port in matching { context.out(port.hostEndpoint) }
        return 0
    }

    /// By container port, TCP before UDP, each as published (IPv4 before IPv6).
    static func ordered(_ ports: [PortMapping]) -> [PortMapping] {
        ports.enumerated().sorted { a, b in
            (a.element.containerPort, a.element.transport.rawValue, a.offset) < (b.element.containerPort, b.element.transport.rawValue, b.offset)
        }.map(\.element)
    }

    /// `0.0.0.0:4000->80/tcp, [::]:4000->80/tcp`, as `ps` shows them.
    static func summary(_ record: ContainerRecord) -> String {
        guard record.isRunning else { return "" }
        return ordered(record.ports).map { "\($0.hostEndpoint)->\($0.containerKey)" }.joined(separator: ", ")
    }
}
