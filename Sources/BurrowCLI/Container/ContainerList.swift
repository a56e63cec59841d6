import BurrowOCI
import BurrowStore
import BurrowSystem
import Glibc

enum ContainerList: Command {
    static let spec = CommandSpec("ps", summary: "List containers", options: [
        OptionSpec("all", short: "a", help: "Show every container (default: only running ones)"),
        OptionSpec("quiet", short: "q", help: "Only show container IDs"),
        OptionSpec("no-trunc", help: "Show full IDs and commands"),
        OptionSpec("filter", short: "f", value: "KEY=VALUE", repeatable: true,
                   help: "Only containers that match: status=created|running|exited, name=, id=, ancestor=, exited=CODE"),
        OptionSpec("format", value: "FORMAT", help: "table, json (one object per line), or a Go template such as '{{.Names}}'"),
    ], maximumPositionals: 0)

    struct Row: Encodable {
        let Command: String
        let CreatedAt: String
        let ID: String
        let Image: String
        let Labels: String
        let LocalVolumes: String
        let Mounts: String
        let Names: String
        let Networks: String
        let Ports: String
        let RunningFor: String
        let Size: String
        let State: String
        let Status: String
    }

    /// Docker's STATE and STATUS columns.
    static func state(_ record: ContainerRecord) -> (state: String, status: String) {
        switch record.state {
        case .running:
            let since = record.started.flatMap(Timestamp.parse) ?? Timestamp.parse(record.created) ?? 0
            return ("running", "Up " + Timestamp.ago(since).replacingAgo())
        case .exited:
            let ago = record.finished.flatMap(Timestamp.parse).map { " " + Timestamp.ago($0) } ?? ""
            return ("exited", "Exited (\(record.exitCode ?? 0))\(ago)")
        case .created:
            return ("created", "Created")
        }
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let filters = try ContainerFilter.parse(arguments.values("filter"))
        let noTrunc = arguments.flag("no-trunc")
        // A status filter shows what it names, running or not, as Docker's.
        let all = arguments.flag("all") || filters.contains { $0.key == "status" || $0.key == "exited" }
        let records = try store.currentContainers()
            .sorted { ($0.created, $0.id) > ($1.created, $1.id) }
            .filter { (all || $0.isRunning) && ContainerFilter.matches($0, filters) }
        let rows = records.map { record -> Row in
            let (state, status) = state(record)
            var command = record.command.joined(separator: " ")
            if !noTrunc && command.count > 20 { command = String(command.prefix(19)) + "…" }
            let created = Timestamp.parse(record.created) ?? 0
            return Row(Command: "\"\(command)\"", CreatedAt: record.created, ID: noTrunc ? record.id : String(record.id.prefix(12)),
                       Image: record.imageName, Labels: "", LocalVolumes: "0", Mounts: "", Names: record.name,
                       Networks: "", Ports: ContainerPort.summary(record), RunningFor: Timestamp.ago(created), Size: "0B", State: state, Status: status)
        }
        if arguments.flag("quiet") {
            for row in rows { context.out(row.ID) }
            return 0
        }
        switch OutputFormat(arguments.value("format")) {
        case .json:
            for row in rows { context.out(try JSONOutput.encode(row, pretty: false)) }
        case .template(let template):
            for row in rows { context.out(try OutputFormat.fill(template, try JSONOutput.document(row), missingFields: .error)) }
        case .table:
            var table = Table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"])
            for row in rows { table.add([row.ID, row.Image, row.Command, row.RunningFor, row.Status, row.Ports, row.Names]) }
            context.out(table.render())
        }
        return 0
    }
}

/// `ps --filter`: Docker's keys, each given once or more (one value of a key
/// must match, every key must).
enum ContainerFilter {
    static let keys = ["status", "name", "id", "ancestor", "exited"]

    static func parse(_ texts: [String]) throws -> [(key: String, value: String)] {
        try texts.map { text in
            guard let equals = text.firstIndex(of: "=") else {
                throw BurrowError.invalidArgument("bad format of filter \"\(text)\" (expected name=value)")
            }
            let key = String(text[..<equals]).lowercased()
            let value = String(text[text.index(after: equals)...])
            guard keys.contains(key) else {
                throw BurrowError.invalidArgument("invalid filter '\(key)': use one of \(keys.joined(separator: ", "))")
            }
            if key == "status", !["created", "running", "exited", "paused", "restarting", "removing", "dead"].contains(value) {
                throw BurrowError.invalidArgument("invalid filter 'status=\(value)': use created, running or exited")
            }
            return (key, value)
        }
    }

    static func matches(_ record: ContainerRecord, _ filters: [(key: String, value: String)]) -> Bool {
        let byKey = Dictionary(grouping: filters, by: \.key)
        return byKey.allSatisfy { key, values in
            values.contains { filter in
                switch key {
                case "status": return ContainerList.state(record).state == filter.value
                case "name": return record.name.contains(filter.value.hasPrefix("/") ? String(filter.value.dropFirst()) : filter.value)
                case "id": return record.id.hasPrefix(filter.value)
                case "ancestor":
                    let wanted = (try? ImageReference(parsing: filter.value))?.description
                    return record.imageName == filter.value || record.imageID.encoded.hasPrefix(filter.value)
                        || record.imageID.description == filter.value
                        || (wanted != nil && wanted == (try? ImageReference(parsing: record.imageName))?.description)
                case "exited": return record.state == .exited && String(record.exitCode ?? 0) == filter.value
                default: return false
                }
            }
        }
    }
}

extension String {
    /// "2 minutes ago" → "2 minutes", for "Up 2 minutes".
    func replacingAgo() -> String { hasSuffix(" ago") ? String(dropLast(4)) : self }
}
