import BurrowArchive
import BurrowDockerfile
import BurrowOCI
import BurrowSandbox
import BurrowStorage
import BurrowStore
import BurrowSystem
import BurrowTransport
import CBurrowSys
import FoundationEssentials
import Glibc

/// The body of `burrow __build apply REQUEST`: runs as root of the user's
/// user namespace, in a mount namespace of its own. Mounts the step
/// container's overlay (as `cp` does for a stopped container), applies the
/// file operations through it, and commits what its upper directory holds
/// as a layer. The step's container directories are removed in any case.
public enum StepApplier {
    public static func apply(_ request: FileStepRequest, store: Store, whiteouts: WhiteoutFormat) throws {
        let filesystem = ContainerFilesystem(layout: store.layout, id: request.containerID, driver: .overlay)
        defer {
            // Mounted only in this process's mount namespace, but a mount point cannot be removed.
            for id in [request.containerID] + request.sourceContainers.keys {
                _ = umount2(store.layout.container(id) + "/merged", Int32(MNT_DETACH))
                try? FileSystem.removeTree(store.layout.container(id))
            }
        }
        if request.removeOnly { return }
        if !request.operations.isEmpty {
            let root = try ContainerRoot.stopped(filesystem, layers: request.layers, keepID: nil)
            var views: [String: ContainerRoot] = [:]
            for (id, layers) in request.sourceContainers {
                views[id] = try ContainerRoot.stopped(ContainerFilesystem(layout: store.layout, id: id, driver: .overlay), layers: layers, keepID: nil)
            }
            for operation in request.operations {
                let sourceRoot = operation.sourceRoot ?? operation.sourceContainer.map { store.layout.container($0) + "/merged" } ?? "/"
                try BuildCopy(root: root, operation: operation, sourceRoot: sourceRoot).run()
            }
            _ = umount2(filesystem.rootPath, Int32(MNT_DETACH))
            views.removeAll()
        }
        removeStubs(request.mountStubs, upper: "\(filesystem.directory)/upper", layers: request.layers, store: store)
        let warnings = request.hostCABundle.map { dropHostBundle($0, upper: "\(filesystem.directory)/upper") } ?? []
        let diffID = try commit(upper: "\(filesystem.directory)/upper", store: store, whiteouts: whiteouts)
        try FileSystem.writeFile(request.resultPath, Array(([diffID?.description ?? ""] + warnings).joined(separator: "\n").utf8))
    }

    /// Deepest first: an empty file or directory a mount made, where no
    /// layer below has anything.
    static func removeStubs(_ stubs: [String], upper: String, layers: [Digest], store: Store) {
        for stub in stubs.sorted(by: { $0.count > $1.count }) {
            let path = upper + stub
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            let inLower = layers.contains { layer in
                var below = stat()
                return lstat(store.layout.layerTree(layer) + stub, &below) == 0
            }
            if inLower { continue }
            if (st.st_mode & S_IFMT) == S_IFREG && st.st_size == 0 {
                unlink(path)
            } else if (st.st_mode & S_IFMT) == S_IFDIR {
                rmdir(path)  // fails, as it should, when something else is inside
            }
        }
    }

    /// A step that only touched the lent bundle (chmod, touch) copied it up:
    /// that copy goes. One that appended to it keeps its file, with a warning.
    static func dropHostBundle(_ bundle: String, upper: String) -> [String] {
        guard let host = try? FileSystem.readFile(bundle) else { return [] }
        var warnings: [String] = []
        for target in HostCA.targets {
            guard let bytes = try? FileSystem.readFileIfPresent(upper + target), !bytes.isEmpty else { continue }
            if bytes == host {
                unlink(upper + target)
            } else if bytes.count > host.count && Array(bytes.prefix(host.count)) == host {
                warnings.append("\(target) was appended to while the host's CA bundle was lent: the layer holds the host's CAs too; build with --host-ca=false to keep them out")
            }
        }
        return warnings
    }

    /// The upper directory as a layer tar, ingested; nil when it holds no change.
    static func commit(upper: String, store: Store, whiteouts: WhiteoutFormat) throws -> Digest? {
        let staging = try store.makeStaging("build")
        defer { staging.discard() }
        let tarPath = "\(staging.path)/layer.tar"
        let fd = try syscall("open", tarPath) { open(tarPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        let source = try UpperLayerSource(upper: upper)
        let identities = CopyIdentities(mapped: .currentNamespace(), caller: (0, 0))
        var count = 0
        do {
            let writer = try TarWriter(fd: fd, identities: identities) { "/" + $0.description }
            while let entry = try source.next() {
                if entry.path.isRoot { continue }
                try writer.write(entry, from: source)
                count += 1
            }
            try writer.finish()
        }
        if count == 0 { return nil }
        _ = lseek(fd, 0, SEEK_SET)
        return try BuildCommit(store: store).commitLayer(fd: fd, ownership: .currentNamespace(), whiteouts: whiteouts, displayName: "build step")
    }
}
