import BurrowArchive
import BurrowOCI
import BurrowStorage
import BurrowStore
import BurrowSystem

/// `burrow __storage assemble|remove-container ID`: file work that needs the
/// user namespace, run by burrow itself inside one.
enum StorageHelper: Command {
    static let spec = CommandSpec("__storage", arguments: "assemble|remove-container ID | shift UID GID LAYER...",
                                  summary: "Internal: storage work inside the user namespace", minimumPositionals: 2, hidden: true)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        if arguments.positionals[0] == "shift" {
            let values = arguments.positionals.dropFirst()
            guard values.count >= 3, let uid = UInt32(values.first!), let gid = UInt32(values.dropFirst().first!) else {
                throw BurrowError.invalidArgument("usage: __storage shift UID GID LAYER...")
            }
            for text in values.dropFirst(2) {
                guard let layer = Digest(text) else { throw BurrowError.invalidArgument("bad layer digest \(text)") }
                try LayerShifter.ensure(store: store, layer: layer, uid: uid, gid: gid)
            }
            return 0
        }
        let id = arguments.positionals[1]
        guard Hex.isLowercaseHex(Substring(id)), id.count == 64 else { throw BurrowError.invalidArgument("bad container id \(id)") }
        switch arguments.positionals[0] {
        case "assemble":
            guard let record = try store.container(id) else { throw BurrowError.notFound("no such container: \(id)") }
            let filesystem = ContainerFilesystem(layout: store.layout, id: id, driver: .vfs,
                                                 layerView: record.layerView ?? LayerView.standard)
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
