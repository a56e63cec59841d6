import BurrowLaunch
import CBurrowLaunch
import Glibc
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

    /// A process waiting to delete a container's files (see burrow_cleaner_start).
    public struct Cleaner {
        let descriptor: Int32

        /// Deletes the retired directory, in the background.
        func trigger() { close(descriptor) }

        /// Leaves everything where it is.
        func cancel() {
            var byte: UInt8 = 0
            _ = write(descriptor, &byte, 1)
            close(descriptor)
        }
    }

    /// Forks the process that deletes a `--rm` container's files after it
    /// exits; done while the container runs, so the fork costs nothing on
    /// the way out.
    public func prepareCleaner(for filesystem: ContainerFilesystem, name: String) -> Cleaner? {
        let executable = HostSystem.executablePath
        let words: [String] = [executable, "--root", store.layout.root, "__storage", "purge", filesystem.retiredPath]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var cArgv = argv + [nil]
        let descriptor = burrow_cleaner_start(filesystem.retiredPath, filesystem.directory, store.layout.name(name), executable, &cArgv)
        return descriptor >= 0 ? Cleaner(descriptor: descriptor) : nil
    }

    /// For `run --rm`: the container disappears at once (record, name and
    /// directory, in one rename), and the cleaner deletes its files while
    /// the caller goes on.
    public func removeSoon(_ record: ContainerRecord, filesystem: ContainerFilesystem, cleaner: Cleaner?) {
        store.releaseName(record.name, of: record.id)
        guard (try? filesystem.retire()) != nil else {
            cleaner?.cancel()
            remove(record, filesystem: filesystem)
            return
        }
        if let cleaner {
            cleaner.trigger()
        } else if (try? FileSystem.removeTree(filesystem.retiredPath)) == nil, !UserNamespaceHelper.isInside,
                  let mapping = try? identity.mapping(.rootless) {
            _ = try? UserNamespaceHelper.run(["--root", store.layout.root, "__storage", "purge", filesystem.retiredPath], mapping: mapping)
        }
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
