import BurrowArchive
import BurrowDockerfile
import BurrowOCI
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
        let diffID = try commit(upper: "\(filesystem.directory)/upper", store: store, whiteouts: whiteouts)
        try FileSystem.writeFile(request.resultPath, Array((diffID?.description ?? "").utf8))
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

/// One COPY, ADD or WORKDIR operation, through the step container's root.
struct BuildCopy {
    let root: ContainerRoot
    let operation: FileOperation
    let sourceRoot: String

    var tree: ContainerTree { ContainerTree(root: root.fd, name: "the image") }

    func run() throws {
        switch operation.kind {
        case .makeDirectory: try makeDirectory()
        case .copy: try copy()
        case .extractArchive: try extract()
        }
    }

    static func member(_ path: ContainerPath) -> MemberPath { MemberPath(components: path.components.map { Array($0.utf8) }) }

    private var owner: (uid: UInt32, gid: UInt32) { (operation.uid ?? 0, operation.gid ?? 0) }

    private func settings(_ owners: CopyOwners) -> TreeWriter.Settings {
        TreeWriter.Settings(owners: owners, parentOwner: owner, chownExistingDirectories: false, clearSetIDFor: nil)
    }

    /// Whether `path` is a directory in the image (a symlink to one counts).
    private func isDirectory(_ path: ContainerPath) -> Bool {
        guard let fd = try? tree.openSource(path, follow: true) else { return false }
        defer { close(fd) }
        var st = stat()
        return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private func makeDirectory() throws { try ensureDirectory(ContainerPath(operation.destination)) }

    /// `mkdir -p`: what is missing is made, owned by the operation's owner;
    /// what exists is left as it is.
    private func ensureDirectory(_ path: ContainerPath) throws {
        if path.isRoot || isDirectory(path) { return }
        let writer = TreeWriter(anchor: root.fd, base: MemberPath(components: []), confinement: .containerRoot,
                                settings: settings(.fixed(uid: owner.uid, gid: owner.gid))) { "/" + $0.description }
        let entry = CopyEntry(path: BuildCopy.member(path), kind: .directory, mode: 0o755, uid: owner.uid, gid: owner.gid, modified: FileTime(seconds: Int64(time(nil))))
        try writer.write(entry, from: EmptySource())
        try writer.finish()
    }

    private func copy() throws {
        let destination = ContainerPath(operation.destination)
        let intoDirectory = operation.destination.hasSuffix("/") || operation.sources.count > 1
        let ignore = operation.ignore.map(DockerIgnore.init)
        for source in operation.sources {
            let hostPath = sourceRoot == "/" ? "/" + source : sourceRoot + "/" + source
            let top = try HostTree.openSource(HostPath(hostPath), follow: true)
            var st = stat()
            try syscall("stat", hostPath) { fstat(top, &st) }
            let reader = TreeReader(top: top, sameMount: false) { $0.isRoot ? source : source + "/" + $0.description }
            let base: ContainerPath
            let rename: (MemberPath) -> MemberPath?
            if (st.st_mode & S_IFMT) == S_IFDIR {
                base = destination
                rename = { $0.isRoot ? nil : $0 }
            } else {
                let name = Array((source.split(separator: "/").last.map(String.init) ?? source).utf8)
                if intoDirectory || destination.isRoot || isDirectory(destination) {
                    base = destination
                    rename = { _ in MemberPath(components: [name]) }
                } else {
                    base = destination.parent
                    let own = Array((destination.name ?? "").utf8)
                    rename = { _ in MemberPath(components: [own]) }
                }
            }
            try ensureDirectory(base)
            let writer = TreeWriter(anchor: root.fd, base: BuildCopy.member(base), confinement: .containerRoot,
                                    settings: settings(.fixed(uid: owner.uid, gid: owner.gid))) { base.description + "/" + $0.description }
            while var entry = try reader.next() {
                if let ignore, operation.sourceRoot != nil, !entry.path.isRoot {
                    let contextPath = source == "." || source.isEmpty ? entry.path.description : source + "/" + entry.path.description
                    if ignore.excludes(contextPath) { continue }
                }
                guard let path = rename(entry.path) else { continue }
                entry.path = path
                if let target = entry.hardlinkTarget {
                    guard let renamed = rename(target) else { continue }
                    entry.hardlinkTarget = renamed
                }
                if let mode = operation.mode, entry.kind == .regular || entry.kind == .directory { entry.mode = mode }
                try writer.write(entry, from: reader)
            }
            try writer.finish()
        }
    }

    private func extract() throws {
        let destination = ContainerPath(operation.destination)
        let identities = CopyIdentities(mapped: .currentNamespace(), caller: (0, 0))
        for source in operation.sources {
            let hostPath = sourceRoot + "/" + source
            let fd = try syscall("open", hostPath) { open(hostPath, O_RDONLY | O_CLOEXEC) }
            defer { close(fd) }
            let reader = try TarSource(fd: fd, identities: identities, displayName: source)
            let owners: CopyOwners = operation.uid == nil ? .kept(identities) : .fixed(uid: owner.uid, gid: owner.gid)
            try ensureDirectory(destination)
            let writer = TreeWriter(anchor: root.fd, base: BuildCopy.member(destination), confinement: .containerRoot,
                                    settings: settings(owners)) { destination.description + "/" + $0.description }
            while let entry = try reader.next() {
                if entry.path.isRoot { continue }
                try writer.write(entry, from: reader)
            }
            try writer.finish()
        }
    }
}

/// The source of entries that have no data (directories).
final class EmptySource: CopySource {
    func next() throws -> CopyEntry? { nil }
    func readData(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws {}
    var currentFile: Int32? { nil }
}
