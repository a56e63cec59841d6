import BurrowArchive
import BurrowOCI
import BurrowStorage
import BurrowStore
import BurrowSystem

/// `burrow __storage assemble|remove-container ID`: file work that needs the
/// user namespace, run by burrow itself inside one.
enum StorageHelper: Command {
    static let spec = CommandSpec("__storage", arguments: "assemble|remove-container ID", summary: "Internal: storage work inside the user namespace",
                                  minimumPositionals: 2, maximumPositionals: 2, hidden: true)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let id = arguments.positionals[1]
        guard Hex.isLowercaseHex(Substring(id)), id.count == 64 else { throw BurrowError.invalidArgument("bad container id \(id)") }
        switch arguments.positionals[0] {
        case "assemble":
            guard let record = try store.container(id) else { throw BurrowError.notFound("no such container: \(id)") }
            let filesystem = ContainerFilesystem(layout: store.layout, id: id, driver: .vfs)
            try filesystem.assemble(layers: record.layers) { layer in
                (try? store.layerRecord(layer)).flatMap { WhiteoutFormat(rawValue: $0?.whiteouts ?? "") } ?? .overlay
            }
        case "remove-container":
            try FileSystem.removeTree(store.layout.container(id))
        default:
            throw BurrowError.invalidArgument("unknown storage operation \(arguments.positionals[0])")
        }
        return 0
    }
}
