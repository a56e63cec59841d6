import BurrowStore
import BurrowSystem

/// `burrow volume create [NAME]`: Docker's, with the local driver only.
enum VolumeCreate: Command {
    static let spec = CommandSpec("volume create", arguments: "[VOLUME]", summary: "Create a volume", options: [
        OptionSpec("label", value: "KEY=VALUE", repeatable: true, help: "Set metadata on the volume"),
        OptionSpec("driver", short: "d", value: "DRIVER", help: "Volume driver: local, the only one there is"),
        OptionSpec("opt", short: "o", value: "KEY=VALUE", repeatable: true, help: "Driver options (the local driver of burrow takes none)"),
    ], maximumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        if let driver = arguments.value("driver"), driver != "local" {
            throw BurrowError.unsupported("volume driver \"\(driver)\" is not supported: burrow has the local driver only")
        }
        if let option = arguments.values("opt").first {
            throw BurrowError.unsupported("driver option \(option) is not supported: burrow's local driver mounts nothing (no type=, device= or o=); leave -o out")
        }
        var labels: [String: String] = [:]
        for label in arguments.values("label") {
            let key = String(label.prefix { $0 != "=" })
            guard !key.isEmpty else { throw BurrowError.invalidArgument("invalid label \"\(label)\": give KEY=VALUE or KEY") }
            labels[key] = label.contains("=") ? String(label.drop { $0 != "=" }.dropFirst()) : ""
        }
        let (record, _) = try context.store().createVolume(name: arguments.positionals.first, labels: labels)
        context.out(record.name)
        return 0
    }
}
