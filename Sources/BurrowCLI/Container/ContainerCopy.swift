import BurrowLaunch
import BurrowStorage
import BurrowStore
import BurrowSystem
import Glibc

/// `burrow cp`: files between a container, running or not, and the host.
///
/// Everything happens inside a user namespace, where the container's owners
/// can be read and set. A running container is reached in place: this
/// process joins its user namespace and opens its root through its first
/// process. A stopped one is reached by running this same command again in
/// a new user and mount namespace (UserNamespaceHelper), which mounts the
/// container's overlay privately while holding the container's lock.
enum ContainerCopy: Command {
    static let spec = CommandSpec("cp", arguments: "CONTAINER:SRC_PATH DEST_PATH|-  (or SRC_PATH|- CONTAINER:DEST_PATH)",
                                  summary: "Copy files between a container and the host", options: [
        OptionSpec("archive", short: "a", help: "Keep the owners (uid and gid) of what is copied"),
        OptionSpec("follow-link", short: "L", help: "Follow a symbolic link in SRC_PATH"),
        OptionSpec("quiet", short: "q", help: "Do not print the summary line a terminal gets"),
    ], minimumPositionals: 2, maximumPositionals: 2)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let (name, direction) = try request(source: arguments.positionals[0], destination: arguments.positionals[1])
        let operation = CopyOperation(direction: direction, followLink: arguments.flag("follow-link"), keepOwners: arguments.flag("archive"))
        let store = try context.store()
        let id = try store.resolveContainer(name)
        guard let record = try store.container(id) else { throw BurrowError.notFound("no such container: \(name)") }
        // The inner run for a stopped container (see below).
        let inner = UserNamespaceHelper.isInside

        var result: CopyOperation.Result? = nil
        if !inner, record.state == .running, let pid = record.pid,
           let root = try ContainerRoot.running(pid: pid, id: id, host: context.identity.user) {
            result = try operation.run(container: ContainerTree(root: root.fd, name: name), identities: root.identities)
        } else if !inner {
            // Always the standard mapping: root inside, so the inner run keeps
            // its capabilities through exec (keep-id containers are handled there).
            return try UserNamespaceHelper.run(context.arguments, mapping: try context.identity.mapping(.rootless))
        } else {
            let lock = try FileLock(path: "\(store.layout.container(id))/lock", mode: .exclusive)
            defer { _ = lock }
            guard let current = try store.container(id) else { throw BurrowError.notFound("no such container: \(name)") }
            if current.state == .running, let pid = current.pid, ContainerRoot.isRunning(pid: pid, id: id) {
                throw BurrowError.conflict("container \(name) started while burrow cp was getting ready: run the command again")
            }
            let filesystem = ContainerFilesystem(layout: store.layout, id: id, driver: StorageDriver(rawValue: current.driver) ?? .overlay,
                                                 layerView: current.layerView ?? LayerView.standard)
            let root = try ContainerRoot.stopped(filesystem, layers: current.layers, keepID: keepID(current.layerView))
            result = try operation.run(container: ContainerTree(root: root.fd, name: name), identities: root.identities)
        }
        guard let result else { return 0 }
        for warning in result.warnings { context.warn(warning) }
        if !arguments.flag("quiet"), arguments.positionals[1] != "-", isatty(2) == 1 {
            Context.standardError("Successfully copied \(HumanSize.format(result.archiveBytes)) to \(arguments.positionals[1])\n")
        }
        return 0
    }

    /// The container named, and which way the copy goes.
    static func request(source: String, destination: String) throws -> (container: String, direction: CopyOperation.Direction) {
        switch (CopyArgument(parsing: source), CopyArgument(parsing: destination)) {
        case (.container, .container):
            throw BurrowError.invalidArgument("copying between containers is not supported: copy to the host, then into the other container")
        case (.container(let name, let path), .host(let host)):
            guard !host.isEmpty else { throw BurrowError.invalidArgument("the destination path is empty") }
            return (name, .fromContainer(ContainerPath(path), to: .path(HostPath(host))))
        case (.container(let name, let path), .stream):
            return (name, .fromContainer(ContainerPath(path), to: .stream))
        case (.host(let host), .container(let name, let path)):
            guard !host.isEmpty else { throw BurrowError.invalidArgument("the source path is empty") }
            return (name, .toContainer(from: .path(HostPath(host)), ContainerPath(path)))
        case (.stream, .container(let name, let path)):
            return (name, .toContainer(from: .stream, ContainerPath(path)))
        default:
            throw BurrowError.invalidArgument("name a container on one side: burrow cp CONTAINER:SRC_PATH DEST_PATH, or burrow cp SRC_PATH CONTAINER:DEST_PATH")
        }
    }

    /// The ids a keep-id container's layer copies traded with root ("keep-id-UID-GID").
    static func keepID(_ layerView: String?) -> (uid: UInt32, gid: UInt32)? {
        guard let view = layerView, view.hasPrefix("keep-id-") else { return nil }
        let parts = view.dropFirst("keep-id-".count).split(separator: "-")
        guard parts.count == 2, let uid = UInt32(parts[0]), let gid = UInt32(parts[1]) else { return nil }
        return (uid, gid)
    }
}
