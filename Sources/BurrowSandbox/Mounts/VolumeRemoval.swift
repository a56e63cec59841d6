import BurrowLaunch
import BurrowStore
import BurrowSystem
import Glibc

/// Removes volumes: refused while a container uses one (Docker's rule),
/// then out of sight in one rename and deleted, from inside the user
/// namespace when its files belong to subordinate ids.
public struct VolumeRemoval {
    let store: Store
    let identity: Identity

    public init(store: Store, identity: Identity) {
        self.store = store
        self.identity = identity
    }

    /// Removes a volume no container uses; the error names a container that
    /// does. Call with the store locked exclusively. Returns the bytes its
    /// files held.
    @discardableResult
    public func remove(_ name: String) throws -> Int64 {
        guard try store.volume(name) != nil else { throw BurrowError.notFound("no such volume: \(name)") }
        if let user = try store.containersUsing(volume: name).first {
            throw BurrowError.conflict("remove \(name): volume is in use by container \(user.name) (\(user.id.prefix(12))): remove that container first with 'burrow rm \(user.name)'")
        }
        let retired = try store.retireVolume(name)
        let size = Store.treeSize(retired + "/_data")
        try deleteRetired(retired)
        return size
    }

    /// Removes a volume made by a start that failed, or an anonymous one whose
    /// container is gone; left alone while any container uses it.
    public func delete(_ name: String) {
        guard (try? store.containersUsing(volume: name))?.isEmpty == true, let retired = try? store.retireVolume(name) else { return }
        try? deleteRetired(retired)
    }

    private func deleteRetired(_ path: String) throws {
        do {
            try FileSystem.removeTree(path)
        } catch let error as SystemError where !UserNamespaceHelper.isInside && (error.errno == EPERM || error.errno == EACCES) {
            let code = try UserNamespaceHelper.run(["--root", store.layout.root, "__storage", "purge", path], mapping: try identity.mapping(.rootless))
            // What is left, the next command that sweeps the store's tmp/ removes.
            if code != 0 { throw BurrowError.engine("could not delete all files of the volume in \(path): they are removed at the next 'burrow rm'") }
        }
    }
}
