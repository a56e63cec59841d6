import BurrowArchive
import BurrowOCI
import BurrowStorage
import BurrowStore
import BurrowLaunch
import BurrowSystem
import Glibc

/// `burrow __storage assemble|remove-container ID`: file work that needs the
/// user namespace, run by burrow itself inside one.
enum StorageHelper: Command {
    static let spec = CommandSpec("__storage", arguments: "assemble ID VIEW LAYER... | remove-container ID | shift UID GID LAYER... | purge PATH | copy-up VOLUME PATH LAYER...",
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
        if arguments.positionals[0] == "copy-up" {
            return try copyUp(Array(arguments.positionals.dropFirst()), store: store, context: context)
        }
        if arguments.positionals[0] == "purge" {
            return try purge(arguments.positionals[1], store: store, context: context)
        }
        let id = arguments.positionals[1]
        guard Hex.isLowercaseHex(Substring(id)), id.count == 64 else { throw BurrowError.invalidArgument("bad container id \(id)") }
        switch arguments.positionals[0] {
        case "assemble":
            let rest = Array(arguments.positionals.dropFirst(2))
            guard let view = rest.first, view == LayerView.standard || view.hasPrefix("keep-id-") else {
                throw BurrowError.invalidArgument("usage: __storage assemble ID VIEW LAYER...")
            }
            let layers = rest.dropFirst().compactMap(Digest.init)
            let filesystem = ContainerFilesystem(layout: store.layout, id: id, driver: .vfs, layerView: view)
            try filesystem.assemble(layers: layers) { layer in
                (try? store.layerRecord(layer)).flatMap { WhiteoutFormat(rawValue: $0?.whiteouts ?? "") } ?? .overlay
            }
        case "remove-container":
            try FileSystem.removeTree(store.layout.container(id))
        default:
            throw BurrowError.invalidArgument("unknown storage operation \(arguments.positionals[0])")
        }
        return 0
    }

    /// Fills a new volume with the image's files at PATH (ContainerMounts.resolve
    /// runs this inside the user namespace; run by hand, it enters one).
    static func copyUp(_ values: [String], store: Store, context: Context) throws -> Int32 {
        guard values.count >= 2, values[1].hasPrefix("/") else {
            throw BurrowError.invalidArgument("usage: __storage copy-up VOLUME PATH LAYER...")
        }
        let layers = try values.dropFirst(2).map { text in
            guard let layer = Digest(text) else { throw BurrowError.invalidArgument("bad layer digest \(text)") }
            return layer
        }
        if let code = try context.reenterUserNamespace() { return code }
        _ = try VolumeFiller.fill(store: store, volume: values[0], path: values[1], layers: layers)
        return 0
    }

    /// Deletes a retired container directory under the store's tmp/; files
    /// of subordinate ids are deleted from inside the user namespace.
    static func purge(_ path: String, store: Store, context: Context) throws -> Int32 {
        guard path.hasPrefix(store.layout.staging + "/"), !path.dropFirst(store.layout.staging.count + 1).contains("/") else {
            throw BurrowError.invalidArgument("purge only removes entries of \(store.layout.staging)")
        }
        do {
            try FileSystem.removeTree(path)
            return 0
        } catch let error as SystemError where (error.errno == EPERM || error.errno == EACCES) && !UserNamespaceHelper.isInside {
            return try context.reenterUserNamespace() ?? 0
        }
    }
}
