import BurrowStore
import BurrowSystem
import Glibc

enum ContainerList: Command {
    static let spec = CommandSpec("ps", summary: "List containers", options: [
        OptionSpec("all", short: "a", help: "Show every container (default: only running ones)"),
        OptionSpec("quiet", short: "q", help: "Only show container IDs"),
        OptionSpec("no-trunc", help: "Show full IDs and commands"),
        OptionSpec("format", value: "FORMAT", help: "table, json (one object per line), or a template such as '{{.Names}}'"),
    ], maximumPositionals: 0)

    struct Row: Encodable {
        let Command: String
        let CreatedAt: String
        let ID: String
        let Image: String
        let Names: String
        let State: String
        let Status: String
    }

    /// A record that says running but whose process is gone (its burrow was
    /// killed) is shown as what it is.
    static func state(_ record: ContainerRecord) -> (state: String, status: String) {
        switch record.state {
        case .running:
            if let pid = record.pid, kill(pid, 0) == 0 || errno == EPERM {
                return ("running", "Up " + Timestamp.ago(Timestamp.parse(record.created) ?? 0).replacingAgo())
            }
            return ("exited", "Exited (unknown)")
        case .exited:
            let ago = record.finished.flatMap(Timestamp.parse).map { Timestamp.ago($0) } ?? ""
            return ("exited", "Exited (\(record.exitCode ?? 0)) \(ago)")
        case .created:
            return ("created", "Created")
        }
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let noTrunc = arguments.flag("no-trunc")
        var records = try store.containers()
        records.sort { $0.created > $1.created }
        var rows: [Row] = []
        for record in records {
            let (state, status) = state(record)
            if state != "running" && !arguments.flag("all") { continue }
            var command = record.command.joined(separator: " ")
            if !noTrunc && command.count > 20 { command = String(command.prefix(19)) + "…" }
            rows.append(Row(Command: "\"\(command)\"", CreatedAt: record.created, ID: noTrunc ? record.id : String(record.id.prefix(12)),
                            Image: record.imageName, Names: record.name, State: state, Status: status))
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
            var table = Table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"])
            for (row, record) in zip(rows, records.filter { arguments.flag("all") || state($0).state == "running" }) {
                table.add([row.ID, row.Image, row.Command, Timestamp.ago(Timestamp.parse(record.created) ?? 0), row.Status, row.Names])
            }
            context.out(table.render())
        }
        return 0
    }
}

extension String {
    /// "2 minutes ago" → "2 minutes", for "Up 2 minutes".
    func replacingAgo() -> String { hasSuffix(" ago") ? String(dropLast(4)) : self }
}
