import BurrowArchive
import BurrowSystem
import CBurrowSys
import Glibc

/// One `burrow cp`, once the container's root is open: finds what SRC and
/// DEST are, applies Docker's rules (CopyRules), and moves the entries.
public struct CopyOperation {
    public enum HostSide: Sendable, Equatable {
        case path(HostPath)
        /// A tar archive on standard input or output.
        case stream
    }

    public enum Direction: Sendable, Equatable {
        case fromContainer(ContainerPath, to: HostSide)
        case toContainer(from: HostSide, ContainerPath)
    }

    public struct Result: Sendable {
        /// About what the copy would weigh as a tar archive, the figure Docker prints.
        public var archiveBytes: Int64 = 0
        public var warnings: [String] = []
    }

    public let direction: Direction
    /// -L: a symlink at SRC is followed (it always is with a trailing `/`).
    public let followLink: Bool
    /// -a: owners are kept; otherwise what lands in the container is its
    /// root's, and what lands on the host is the caller's.
    public let keepOwners: Bool

    public init(direction: Direction, followLink: Bool, keepOwners: Bool) {
        self.direction = direction
        self.followLink = followLink
        self.keepOwners = keepOwners
    }

    /// Copies between `container` and the host. `input` and `output` are
    /// where `-` reads and writes archives.
    public func run(container: ContainerTree, identities: CopyIdentities, input: Int32 = 0, output: Int32 = 1) throws -> Result {
        switch direction {
        case .fromContainer(let source, .stream):
            let top = try container.openSource(source, follow: followLink || source.assertsDirectory || source.isRoot)
            let kind = try CopyOperation.kind(of: top, path: container.describe(source), mustBeDirectory: source.assertsDirectory)
            let reader = TreeReader(top: top, sameMount: true) { container.describe(source.appending($0)) }
            let contents = source.isRoot || (source.contentsOnly && kind == .directory)
            let writer = try TarWriter(fd: output, identities: identities) { container.describe(source.appending($0)) }
            return try transfer(reader, to: writer, rename: contents ? { $0 } : CopyOperation.named(source.name ?? "."))

        case .fromContainer(let source, .path(let destination)):
            let top = try container.openSource(source, follow: followLink || source.assertsDirectory || source.isRoot)
            let kind = try CopyOperation.kind(of: top, path: container.describe(source), mustBeDirectory: source.assertsDirectory)
            let reader = TreeReader(top: top, sameMount: true) { container.describe(source.appending($0)) }
            let (resolved, found) = try HostTree.resolveDestination(destination)
            let placement = try CopyOperation.place(source: kind, name: source.name ?? "/", assertsDirectory: source.assertsDirectory,
                                                    contentsOnly: source.contentsOnly || source.isRoot, destination: found,
                                                    destinationName: resolved.name, destinationAssertsDirectory: destination.assertsDirectory,
                                                    describeSource: container.describe(source), describeDestination: destination.text)
            let anchorPath = placement.isAt ? resolved.directory : resolved.text
            let anchor = try syscall("open", anchorPath) { bsys_openat(AT_FDCWD, anchorPath, BSYS_O_PATH | O_DIRECTORY, 0) }
            defer { close(anchor) }
            let owners: CopyOwners = keepOwners ? .kept(identities) : .fixed(uid: identities.caller.uid, gid: identities.caller.gid)
            let settings = TreeWriter.Settings(owners: owners, parentOwner: identities.caller, chownExistingDirectories: false,
                                               clearSetIDFor: identities.caller)
            let writer = TreeWriter(anchor: anchor, base: MemberPath(components: []), confinement: .hostDirectory, settings: settings) {
                $0.isRoot ? anchorPath : (anchorPath == "/" ? "" : anchorPath) + "/" + $0.description
            }
            return try transfer(reader, to: writer, rename: placement.rename)

        case .toContainer(.path(let source), let destination):
            let top = try HostTree.openSource(source, follow: followLink || source.assertsDirectory)
            let kind = try CopyOperation.kind(of: top, path: source.text, mustBeDirectory: source.assertsDirectory)
            let reader = TreeReader(top: top, sameMount: false) { $0.isRoot ? source.text : source.cleaned + "/" + $0.description }
            let (resolved, found) = try container.resolveDestination(destination)
            let placement = try CopyOperation.place(source: kind, name: try CopyOperation.hostName(source, top), assertsDirectory: source.assertsDirectory,
                                                    contentsOnly: source.contentsOnly, destination: found,
                                                    destinationName: resolved.name ?? "/", destinationAssertsDirectory: destination.assertsDirectory,
                                                    describeSource: source.text, describeDestination: container.describe(destination))
            let base = placement.isAt ? resolved.parent : resolved
            let root = identities.containerRoot
            let owners: CopyOwners = keepOwners ? .kept(identities) : .fixed(uid: root.uid, gid: root.gid)
            let settings = TreeWriter.Settings(owners: owners, parentOwner: root, chownExistingDirectories: true, clearSetIDFor: nil)
            let writer = TreeWriter(anchor: container.root, base: base.member, confinement: .containerRoot, settings: settings) {
                container.describe(base.appending($0))
            }
            return try transfer(reader, to: writer, rename: placement.rename)

        case .toContainer(.stream, let destination):
            let (resolved, found) = try container.resolveDestination(destination)
            guard found == .directory else {
                throw BurrowError.invalidArgument("cannot extract an archive to \(container.describe(destination)): it must be an existing directory")
            }
            let root = identities.containerRoot
            let owners: CopyOwners = keepOwners ? .kept(identities) : .fixed(uid: root.uid, gid: root.gid)
            let settings = TreeWriter.Settings(owners: owners, parentOwner: root, chownExistingDirectories: true, clearSetIDFor: nil)
            let writer = TreeWriter(anchor: container.root, base: resolved.member, confinement: .containerRoot, settings: settings) {
                container.describe(resolved.appending($0))
            }
            let reader = try TarSource(fd: input, identities: identities, displayName: "the archive on standard input")
            var result = try transfer(reader, to: writer) { $0 }
            result.archiveBytes = reader.bytesRead
            return result
        }
    }

    /// Every entry of `source` into `destination`, renamed; nil leaves one out.
    func transfer(_ source: CopySource, to destination: CopyDestination, rename: (MemberPath) -> MemberPath?) throws -> Result {
        var result = Result()
        while var entry = try source.next() {
            guard let path = rename(entry.path) else { continue }
            entry.path = path
            if let target = entry.hardlinkTarget {
                guard let renamed = rename(target) else { continue }
                entry.hardlinkTarget = renamed
            }
            try destination.write(entry, from: source)
            result.archiveBytes += 512 + (entry.kind == .regular ? (entry.size + 511) / 512 * 512 : 0)
        }
        try destination.finish()
        result.archiveBytes += 1024
        result.warnings = destination.warnings
        if let reader = source as? TreeReader, !reader.leftOut.isEmpty {
            result.warnings.append("left out what is mounted inside the container, not part of its root filesystem: " + reader.leftOut.joined(separator: ", "))
        }
        return result
    }

    static func named(_ name: String) -> (MemberPath) -> MemberPath? {
        let component = Array(name.utf8)
        return { MemberPath(components: [component] + $0.components) }
    }

    static func kind(of fd: Int32, path: String, mustBeDirectory: Bool) throws -> CopyRules.Source {
        var st = stat()
        try syscall("stat", path) { fstat(fd, &st) }
        let isDirectory = bsys_is_dir(st.st_mode) != 0
        if mustBeDirectory && !isDirectory { throw BurrowError.invalidArgument("\(path) is not a directory") }
        return isDirectory ? .directory : .other
    }

    /// The name a host source is copied under: its last component as
    /// written, or, for `..` and `/`, the directory's own name.
    static func hostName(_ path: HostPath, _ fd: Int32) throws -> String {
        let name = path.name
        guard name == ".." || name == "/" || name == "." else { return name }
        let real = try FileSystem.readLink("/proc/self/fd/\(fd)")
        return real.split(separator: "/").last.map(String.init) ?? "/"
    }

    struct Placement {
        let rule: CopyRules.Placement
        var isAt: Bool { if case .at = rule { return true } else { return false } }
        var rename: (MemberPath) -> MemberPath? {
            switch rule {
            case .into(let name), .at(let name): return CopyOperation.named(name)
            case .contentsInto: return { $0.isRoot ? nil : $0 }
            }
        }
    }

    static func place(source: CopyRules.Source, name: String, assertsDirectory: Bool, contentsOnly: Bool, destination: CopyRules.Destination,
                      destinationName: String, destinationAssertsDirectory: Bool, describeSource: String, describeDestination: String) throws -> Placement {
        if destination == .missing && (destinationName == "." || destinationName == "..") {
            throw BurrowError.invalidArgument("cannot copy to \(describeDestination): name the file or directory to create")
        }
        do {
            return Placement(rule: try CopyRules.placement(source: source, sourceName: name, sourceAssertsDirectory: assertsDirectory,
                                                           sourceContentsOnly: contentsOnly, destination: destination,
                                                           destinationName: destinationName, destinationAssertsDirectory: destinationAssertsDirectory))
        } catch {
            switch error {
            case .sourceNotDirectory:
                throw BurrowError.invalidArgument("\(describeSource) is not a directory")
            case .destinationNotDirectory:
                throw BurrowError.invalidArgument("\(describeDestination) is not a directory")
            case .destinationDirectoryMissing:
                throw BurrowError.notFound("the directory \(describeDestination) does not exist: create it first, or copy to a file name without the trailing /")
            case .directoryOntoFile:
                throw BurrowError.conflict("cannot copy the directory \(describeSource) onto the file \(describeDestination)")
            }
        }
    }
}

extension ContainerPath {
    var member: MemberPath { MemberPath(components: components.map { Array($0.utf8) }) }

    /// This path and a path relative to it, for messages.
    func appending(_ relative: MemberPath) -> ContainerPath {
        ContainerPath(components: components + relative.components.map { String(decoding: $0, as: UTF8.self) })
    }
}
