import BurrowOCI
import BurrowStore
import BurrowSystem
import FoundationEssentials

enum ImageList: Command {
    static let spec = CommandSpec("images", arguments: "[REPOSITORY[:TAG]]", summary: "List images", options: [
        OptionSpec("all", short: "a", help: "Show all images (the same as the default: burrow keeps no intermediate images)"),
        OptionSpec("quiet", short: "q", help: "Only show image IDs"),
        OptionSpec("no-trunc", help: "Show full image IDs"),
        OptionSpec("format", value: "FORMAT", help: "table, json (one object per line), or a template such as '{{.Repository}}:{{.Tag}}'"),
    ], maximumPositionals: 1)

    struct Row: Encodable {
        let Containers: String
        let CreatedAt: String
        let CreatedSince: String
        let Digest: String
        let ID: String
        let Repository: String
        let SharedSize: String
        let Size: String
        let Tag: String
        let UniqueSize: String
        let VirtualSize: String
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let (records, tags, containers) = try {
            let lock = try store.lock(.shared)
            defer { _ = lock }
            return (try store.images(), try store.tags(), try store.containers())
        }()
        let filter = arguments.positionals.first
        let noTrunc = arguments.flag("no-trunc")
        var rows: [(created: Int64, row: Row)] = []
        for record in records {
            let config = try? JSONDecoder().decode(ImageConfiguration.self, from: Data(store.imageConfigBytes(record.id)))
            let createdText = config?.created ?? record.added
            let created = Timestamp.parse(createdText) ?? 0
            let id = noTrunc ? record.id.description : record.id.short
            let used = containers.filter { $0.imageID == record.id }.count
            var references = store.references(of: record.id, in: tags).map { ($0.familiarRepository, $0.tag ?? "<none>") }
            if references.isEmpty { references = [("<none>", "<none>")] }
            for (repository, tag) in references {
                if let filter, !matches(filter, repository: repository, tag: tag) { continue }
                rows.append((created, Row(Containers: String(used), CreatedAt: createdText, CreatedSince: Timestamp.ago(created),
                                          Digest: record.manifestDigest?.description ?? "<none>", ID: id, Repository: repository,
                                          SharedSize: "N/A", Size: HumanSize.format(record.size), Tag: tag, UniqueSize: "N/A",
                                          VirtualSize: HumanSize.format(record.size))))
            }
        }
        rows.sort { $0.created != $1.created ? $0.created > $1.created : ($0.row.Repository, $0.row.Tag) < ($1.row.Repository, $1.row.Tag) }

        if arguments.flag("quiet") {
            var seen = Set<String>()
            for (_, row) in rows where seen.insert(row.ID).inserted { context.out(row.ID) }
            return 0
        }
        switch OutputFormat(arguments.value("format")) {
        case .json:
            for (_, row) in rows { context.out(try JSONOutput.encode(row, pretty: false)) }
        case .template(let template):
            for (_, row) in rows { context.out(try OutputFormat.fill(template, try JSONOutput.document(row), missingFields: .error)) }
        case .table:
            var table = Table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"])
            for (_, row) in rows { table.add([row.Repository, row.Tag, row.ID, row.CreatedSince, row.Size]) }
            context.out(table.render())
        }
        return 0
    }

    /// `busybox` matches every tag of busybox; `busybox:1` only that tag.
    static func matches(_ filter: String, repository: String, tag: String) -> Bool {
        guard let reference = try? ImageReference(parsing: filter) else { return false }
        let wantsTag = filter.split(separator: "/").last?.contains(":") ?? false
        return reference.familiarRepository == repository && (!wantsTag || reference.tag == tag)
    }
}
