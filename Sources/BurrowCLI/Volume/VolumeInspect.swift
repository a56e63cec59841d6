import BurrowOCI
import BurrowStore
import BurrowSystem

/// `burrow volume inspect`: the JSON array Docker prints.
enum VolumeInspect: Command {
    static let spec = CommandSpec("volume inspect", arguments: "VOLUME [VOLUME...]", summary: "Display detailed information on one or more volumes", options: [
        OptionSpec("format", short: "f", value: "FORMAT", help: "json (the default), or a template such as '{{.Mountpoint}}'"),
    ], minimumPositionals: 1)

    /// Docker's fields, in its order.
    static func document(_ volume: VolumeRecord) -> JSONValue {
        func map(_ values: [String: String]) -> JSONValue { .object(values.keys.sorted().map { ($0, .string(values[$0]!)) }) }
        return .object([("CreatedAt", .string(volume.created)), ("Driver", .string(volume.driver)), ("Labels", map(volume.labels)),
                        ("Mountpoint", .string(volume.mountpoint)), ("Name", .string(volume.name)), ("Options", map(volume.options)),
                        ("Scope", .string("local"))])
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let template: String? = if case .template(let text) = OutputFormat(arguments.value("format")) { text } else { nil }
        var documents: [JSONValue] = []
        var filled: [String] = []
        var failed = false
        for name in arguments.positionals {
            do {
                guard let volume = try store.volume(name) else {
                    throw BurrowError.notFound("no such volume: \(name) (see 'burrow volume ls')")
                }
                if let template { filled.append(try OutputFormat.fill(template, document(volume))) } else { documents.append(document(volume)) }
            } catch {
                Context.standardError("burrow: \(error)\n")
                failed = true
            }
        }
        JSONOutput.printInspected(documents, filled: filled, templated: template != nil, failed: failed, context: context)
        return failed ? 125 : 0
    }
}
