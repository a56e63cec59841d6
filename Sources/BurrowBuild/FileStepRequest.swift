import BurrowOCI

/// What the builder asks of the `__build apply` helper, which runs inside
/// the user namespace (where every owner of the step's files can be set):
/// change a step container's root filesystem (COPY, ADD, WORKDIR), then
/// turn the changes in its upper directory into a layer. Passed as a JSON file.
public struct FileStepRequest: Codable, Sendable {
    /// The step's container directory (under containers/), made by the builder.
    public var containerID: String
    /// The layers under it, bottom first.
    public var layers: [Digest]
    /// Where the helper writes the new layer's diff id ("" for no change).
    public var resultPath: String
    public var operations: [FileOperation]
    /// Mount points the step's container made (its /etc files, the host CA
    /// bundle): removed from the changes when no layer below has them, so
    /// they leave no trace in the image.
    public var mountStubs: [String]
    /// Other build containers the operations read from (COPY --from), removed with this one.
    public var sourceContainers: [String: [Digest]]
    /// The host CA bundle the step saw (as a layer above `layers`): a copy
    /// of it the step left at a bundle path is dropped from the changes.
    public var hostCABundle: String? = nil
    /// Only remove the containers (a failed or abandoned step): nothing is committed.
    public var removeOnly = false

    public init(containerID: String, layers: [Digest], resultPath: String, operations: [FileOperation], mountStubs: [String],
                sourceContainers: [String: [Digest]] = [:]) {
        self.containerID = containerID
        self.layers = layers
        self.resultPath = resultPath
        self.operations = operations
        self.mountStubs = mountStubs
        self.sourceContainers = sourceContainers
    }
}

public struct FileOperation: Codable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// `mkdir -p`, new directories owned by uid:gid, existing ones untouched (WORKDIR).
        case makeDirectory
        /// Files and trees, by COPY's rules.
        case copy
        /// A local tar archive, unpacked into the destination (ADD).
        case extractArchive
    }

    public var kind: Kind
    /// Paths relative to `sourceRoot` (context paths, or paths in another stage).
    public var sources: [String]
    /// The build context's directory, or nil for `sourceContainer`'s root.
    public var sourceRoot: String?
    /// A build container (in the request's sourceContainers) whose root holds the sources.
    public var sourceContainer: String?
    /// Absolute, in the container; a trailing `/` makes it a directory.
    public var destination: String
    /// nil keeps the owners an archive gives (ADD without --chown).
    public var uid: UInt32?
    public var gid: UInt32?
    public var mode: UInt32?
    /// .dockerignore's text (context sources only).
    public var ignore: String?

    public init(kind: Kind, sources: [String] = [], sourceRoot: String? = nil, sourceContainer: String? = nil, destination: String,
                uid: UInt32?, gid: UInt32?, mode: UInt32? = nil, ignore: String? = nil) {
        self.kind = kind
        self.sources = sources
        self.sourceRoot = sourceRoot
        self.sourceContainer = sourceContainer
        self.destination = destination
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.ignore = ignore
    }
}
