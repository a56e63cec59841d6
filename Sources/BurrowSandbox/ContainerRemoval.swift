import BurrowLaunch
import BurrowStorage
import BurrowStore
import BurrowSystem

/// Removes a container's record, name and files. Files the container's
/// other users created belong to subordinate ids: when the plain removal is
/// refused, it is retried from inside the user namespace.
public struct ContainerRemoval {
    let store: Store
    let identity: Identity

    public init(store: Store, identity: Identity) {
        self.store = store
        self.identity = identity
    }

    public func remove(_ record: ContainerRecord, filesystem: ContainerFilesystem) {
        store.releaseName(record.name, of: record.id)
        if filesystem.remove() { return }
        if UserNamespaceHelper.isInside { return }
        if let mapping = try? identity.mapping(.rootless) {
            _ = try? UserNamespaceHelper.run(["--root", store.layout.root, "__storage", "remove-container", record.id], mapping: mapping)
        }
    }
}
