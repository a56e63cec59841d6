import BurrowOCI
import BurrowStore
import BurrowSystem

/// Makes the keep-id copy of a layer: root's files and the user's trade
/// owners (uid and gid alike), nothing else changes. Runs inside the user
/// namespace with the standard mapping; the copy appears whole or not at all.
public enum LayerShifter {
    public static func ensure(store: Store, layer: Digest, uid: UInt32, gid: UInt32) throws {
        let view = LayerView.keepID(uid: uid, gid: gid)
        let target = store.layout.layerTree(layer, view: view)
        if FileSystem.exists(target) { return }
        let staging = try store.makeStaging("shift")
        defer { staging.discard() }
        let tree = "\(staging.path)/tree"
        try FileSystem.makeDirectory(tree, mode: 0o755)
        var copier = TreeCopier(whiteouts: .keep) { owner, group in
            (owner == 0 ? uid : owner == uid ? 0 : owner, group == 0 ? gid : group == gid ? 0 : group)
        }
        try copier.copy(from: store.layout.layerTree(layer), to: tree)
        _ = try FileSystem.renameNoReplace(tree, to: target)
    }
}
