/// Everything the child does between clone() and exec(), decided up front
/// in Swift so the child only walks a list. Pure data: built and tested
/// without any namespace, printed by `burrow run --dry-run`.
public struct LaunchPlan: Sendable, Equatable {
    public enum Namespace: String, Sendable, CaseIterable {
        case user, mount, pid, uts, ipc, network, cgroup
    }

    /// Where a mount's target comes from and what to do when it is missing.
    public enum Create: Sendable, Equatable { case nothing, directory, file }

    public enum Operation: Sendable, Equatable {
        case makePrivate
        case changeDirectory(String)
        case mount(source: String?, target: String, type: String?, data: String?, flags: MountFlags,
                   inRoot: Bool, create: Create, optional: Bool, readOnly: Bool, recursive: Bool)
        /// Binds a path of the root onto another (both resolved inside it).
        case bindInRoot(source: String, target: String, create: LaunchPlan.Create)
        case setRoot(String)
        case makeDirectory(String, mode: UInt32)
        case symlink(text: String, path: String)
        case mask(String)
        case readOnly(String)
        case pseudoFilesystem(type: String, path: String, hostFallback: String?, readOnly: Bool)
        case pivotRoot
        case hostname(String)
        case remountRootReadOnly
        /// A new file in the root with these contents.
        case writeFile(String, contents: String, mode: UInt32)
        case unlink(String)
        /// Makes the mount on top of a path of the root read-only where it
        /// is, without a new bind (readOnly binds the path onto itself
        /// first, which a file already unlinked cannot take).
        case remountReadOnly(String)
        /// Joins the namespace behind an inherited descriptor (`exec`).
        case joinNamespace(descriptor: Int32, type: Namespace)
    }

    /// The container's terminal: the child makes a pty in the container's
    /// devpts and sends its master over `socket`.
    public struct Console: Sendable, Equatable {
        public var socket: Int32
        public var rows: UInt16
        public var columns: UInt16
        public init(socket: Int32, rows: UInt16, columns: UInt16) {
            self.socket = socket
            self.rows = rows
            self.columns = columns
        }
    }

    public struct Step: Sendable, Equatable {
        public var operation: Operation
        /// What a user reads when this step fails: "mount proc on /proc".
        public var label: String

        public init(_ operation: Operation, label: String) {
            self.operation = operation
            self.label = label
        }
    }

    public struct ResourceLimit: Sendable, Equatable {
        public var resource: UInt32
        public var soft: UInt64
        public var hard: UInt64
        public init(resource: UInt32, soft: UInt64, hard: UInt64) {
            self.resource = resource
            self.soft = soft
            self.hard = hard
        }
    }

    public struct Process: Sendable, Equatable {
        public var arguments: [String]
        public var environment: [String]
        /// nil stays in the directory the steps left.
        public var workingDirectory: String?
        /// The PATH searched for arguments[0] when it has no slash.
        public var searchPath: String?
        /// nil keeps the ids the namespace gave (root).
        public var user: (uid: UInt32, gid: UInt32)?
        /// nil leaves the supplementary groups alone (they cannot be set when setgroups is denied).
        public var groups: [UInt32]?
        public var capabilities: CapabilitySets?
        public var noNewPrivileges = false
        public var resourceLimits: [ResourceLimit] = []
        /// A compiled seccomp program (struct sock_filter[]), loaded just before exec.
        public var seccompProgram: [UInt8] = []

        public init(arguments: [String], environment: [String]) {
            self.arguments = arguments
            self.environment = environment
        }

        public static func == (a: Process, b: Process) -> Bool {
            a.arguments == b.arguments && a.environment == b.environment && a.workingDirectory == b.workingDirectory
                && a.searchPath == b.searchPath && a.user?.uid == b.user?.uid && a.user?.gid == b.user?.gid
                && a.groups == b.groups && a.capabilities == b.capabilities && a.noNewPrivileges == b.noNewPrivileges
                && a.resourceLimits == b.resourceLimits && a.seccompProgram == b.seccompProgram
        }
    }

    /// A new network namespace comes with its loopback interface up.
    public var namespaces: Set<Namespace>
    public var steps: [Step] = []
    /// nil: exit 0 once the steps ran (feature probes).
    public var process: Process?
    public var stdinFromNull = false
    /// stdout and stderr too: a process that outlives the command.
    public var detachStandardStreams = false
    public var newSession = false
    public var dieWithParent = true
    public var closeInheritedDescriptors = true
    /// Inherited descriptors (3 and above) that become the program's 0, 1
    /// and 2; nil keeps the streams this process has.
    public var standardStreams: [Int32]? = nil
    public var console: Console? = nil

    public init(namespaces: Set<Namespace>) {
        self.namespaces = namespaces
    }

    public mutating func add(_ operation: Operation, _ label: String) {
        steps.append(Step(operation, label: label))
    }
}

/// The five capability sets of a process, one bit per capability number.
public struct CapabilitySets: Sendable, Equatable {
    public var bounding: UInt64
    public var effective: UInt64
    public var permitted: UInt64
    public var inheritable: UInt64
    public var ambient: UInt64

    public init(bounding: UInt64, effective: UInt64, permitted: UInt64, inheritable: UInt64, ambient: UInt64) {
        self.bounding = bounding
        self.effective = effective
        self.permitted = permitted
        self.inheritable = inheritable
        self.ambient = ambient
    }
}
