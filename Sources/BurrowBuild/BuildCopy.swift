import BurrowArchive
import BurrowDockerfile
import BurrowStorage
import BurrowSystem
import Glibc

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
            let top = try BuildContext.open(source, in: sourceRoot)
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
            let found = try BuildContext.open(source, in: sourceRoot)
            defer { close(found) }
            let fd = try syscall("open", hostPath) { open("/proc/self/fd/\(found)", O_RDONLY | O_CLOEXEC) }
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
