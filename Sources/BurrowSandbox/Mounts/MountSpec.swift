import BurrowLaunch

/// One mount a user asked for with `-v`, `--mount` or `--tmpfs`, as parsed:
/// nothing on the disk has been looked at yet (see ContainerMounts.resolve).
public struct MountSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A host file or directory.
        case bind
        /// A volume of the store, named or anonymous.
        case volume
        /// A new tmpfs of the container's own.
        case tmpfs
    }

    public var kind: Kind
    /// bind: the host path, absolute (or starting with "." until the parser
    /// is given a working directory); volume: its name, nil for an anonymous
    /// volume; tmpfs: nil.
    public var source: String?
    /// Where it appears in the container: absolute and clean ("/a/b").
    public var target: String
    public var readOnly: Bool
    public var options: Options

    public struct Options: Sendable, Equatable {
        /// `-v` creates a missing host directory, as Docker's does; `--mount`
        /// refuses one, as Docker's and podman's do.
        public var createsHostDirectory = false
        /// Do not fill a new, empty volume with the image's files at the
        /// target (`volume-nocopy`, `-v NAME:/path:nocopy`).
        public var noCopy = false
        /// Labels for a volume this mount creates (`volume-label=K=V`).
        public var volumeLabels: [String: String] = [:]
        /// bind-nonrecursive: mounts below the source are left out.
        public var nonRecursive = false
        /// tmpfs: mount(2) flags and the filesystem's own options
        /// ("size=64m", "mode=1777"), Docker's defaults applied.
        public var tmpfsFlags: MountFlags = []
        public var tmpfsData: [String] = []

        public init() {}
    }

    public init(kind: Kind, source: String?, target: String, readOnly: Bool = false, options: Options = Options()) {
        self.kind = kind
        self.source = source
        self.target = target
        self.readOnly = readOnly
        self.options = options
    }

    /// A volume without a name: made for this container, named by a random id.
    public var isAnonymousVolume: Bool { kind == .volume && source == nil }
}
