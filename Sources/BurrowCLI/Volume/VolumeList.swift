import BurrowOCI
import BurrowStore
import BurrowSystem

/// `burrow volume ls`: Docker's table, quiet list, JSON rows and templates.
enum VolumeList: Command {
    static let spec = CommandSpec("volume ls", summary: "List volumes", options: [
        OptionSpec("quiet", short: "q", help: "Only show volume names"),
        OptionSpec("format", value: "FORMAT", help: "table, json (one object per line), or a template such as '{{.Name}}'"),
        OptionSpec("filter", short: "f", value: "KEY=VALUE", repeatable: true, help: "dangling=true|false, name=TEXT, label=KEY[=VALUE], driver=local"),
    ], maximumPositionals: 0, aliases: ["list"])

    /// A row as `docker volume ls --format json` prints it.
    static func row(_ volume: VolumeRecord) -> JSONValue {
        let labels = volume.labels.keys.sorted().map { "\($0)=\(volume.labels[$0]!)" }.joined(separator: ",")
        return .object([("Availability", .string("N/A")), ("Driver", .string(volume.driver)), ("Group", .string("N/A")),
                        ("Labels", .string(labels)), ("Links", .string("N/A")), ("Mountpoint", .string(volume.mountpoint)),
                        ("Name", .string(volume.name)), ("Scope", .string("local")), ("Size", .string("N/A")), ("Status", .string("N/A"))])
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let filter = try VolumeFilter(arguments.values("filter"), allowed: ["dangling", "name", "label", "label!", "driver"])
        let store = try context.store()
        let used = Set(try store.containers().flatMap { $0.mounts.compactMap(\.volume) })
        let volumes = try store.volumes().filter { filter.matches($0, used: used.contains($0.name)) }
        if arguments.flag("quiet") {
            for volume in volumes { context.out(volume.name) }
            return 0
        }
        switch OutputFormat(arguments.value("format")) {
        case .json:
            for volume in volumes { context.out(row(volume).serialized) }
        case .template(let template):
            for volume in volumes { context.out(try OutputFormat.fill(template, row(volume), missingFields: .error)) }
        case .table:
            var table = Table(["DRIVER", "VOLUME NAME"])
            for volume in volumes { table.add([volume.driver, volume.name]) }
            context.out(table.render())
        }
        return 0
    }
}
