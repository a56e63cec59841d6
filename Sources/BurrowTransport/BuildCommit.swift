import BurrowArchive
import BurrowOCI
import BurrowStore
import BurrowSystem

/// How `burrow build` puts its results into the store: a step's layer, as
/// a tar made from the step's changes, and at the end the image. The same
/// ingest and registration as `load`, so digests and diff ids agree.
public struct BuildCommit {
    let store: Store

    public init(store: Store) { self.store = store }

    /// Unpacks a layer tar (a regular file) into the store and returns its
    /// diff id. Runs inside the user namespace.
    public func commitLayer(fd: Int32, ownership: OwnershipPolicy, whiteouts: WhiteoutFormat, displayName: String) throws -> Digest {
        let ingest = LayerIngest(store: store, ownership: ownership, whiteouts: whiteouts, progress: SilentProgress())
        let staged = try ingest.ingest(source: .range(fd: fd, offset: 0, length: nil), expected: .init(), displayName: displayName)
        let lock = try store.lock(.exclusive)
        defer { _ = lock }
        if let staging = staged.staging { _ = try store.commitLayer(from: staging.path, diffID: staged.diffID) }
        return staged.diffID
    }

    /// Records the built image and points its tags at it; returns its id
    /// and the tags that moved here from another image.
    public func registerImage(config: [UInt8], layers: [Digest], references: [ImageReference]) throws -> (id: Digest, moved: [(ImageReference, Digest)]) {
        let staged = layers.map { StagedLayer(diffID: $0, staging: nil) }
        let registered = try ImageRegistrar(store: store).register(config: config, manifest: nil, manifestDigest: nil, layers: staged, references: references)
        return (registered.id, registered.moved)
    }
}
