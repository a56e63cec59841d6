import BurrowLaunch
import BurrowSandbox
import BurrowStorage
import BurrowStore
import BurrowSystem
import Glibc

/// What every command gets: the global options, the store, the user.
final class Context {
    let rootOption: String?
    let storageDriver: StorageDriver?
    let arguments: [String]
    private var openedStore: Store?
    lazy var identity: Identity = Identity.current()

    init(rootOption: String?, storageDriver: StorageDriver?, arguments: [String]) {
        self.rootOption = rootOption
        self.storageDriver = storageDriver
        self.arguments = arguments
    }

    /// Absolute: the store is entered from helpers and children whose
    /// working directory is not this one.
    lazy var rootPath: String = FileSystem.absolute(rootOption ?? StoreLayout.defaultRoot(user: identity.user))

    func store() throws -> Store {
        if let openedStore { return openedStore }
        let store = try Store(root: rootPath)
        openedStore = store
        return store
    }

    /// Commands that create or delete files of subordinate ids run again as
    /// root of a user namespace; returns the inner run's exit code, or nil
    /// when this already is the inner run.
    func reenterUserNamespace() throws -> Int32? {
        if UserNamespaceHelper.isInside { return nil }
        // A store that cannot be opened is reported before any namespace is
        // made, and the storage probe runs here, in the user's own namespace.
        let store = try store()
        _ = StorageProbe.current(store: store)
        let mapping = try identity.mapping(.rootless)
        // The standing namespace is entered in place, with no newuidmap and no second burrow.
        if mapping.needsHelpers && ContainerLaunch(store: store, identity: identity).joinStandingNamespace(mapping) { return nil }
        return try UserNamespaceHelper.run(arguments, mapping: mapping)
    }

    func out(_ text: String) {
        print(text)
    }

    func warn(_ text: String) {
        Context.standardError("burrow: warning: \(text)\n")
    }

    /// News of slow work, on a terminal only.
    func note(_ text: String) {
        if isatty(2) == 1 { Context.standardError("burrow: \(text)\n") }
    }

    /// Runs `body` for each named container as Docker's multi-container
    /// commands do: a failure is reported and the rest still run; 125 when any failed.
    func eachContainer(_ names: [String], _ body: (String) throws -> Void) -> Int32 {
        var failed = false
        for name in names {
            do {
                try body(name)
            } catch {
                Context.standardError("burrow: \(error)\n")
                failed = true
            }
        }
        return failed ? 125 : 0
    }

    static func standardError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}

protocol Command: Sendable {
    static var spec: CommandSpec { get }
    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32
}
