import BurrowArchive
import BurrowOCI
import BurrowStore
import BurrowSystem
import FoundationEssentials

/// `burrow import`: a root filesystem tarball (plain or compressed) becomes
/// a one-layer image. Runs inside the user namespace.
public struct RootfsImporter {
    let store: Store
    let ingest: LayerIngest

    public init(store: Store, ownership: OwnershipPolicy, whiteouts: WhiteoutFormat, progress: LoadProgress) {
        self.store = store
        ingest = LayerIngest(store: store, ownership: ownership, whiteouts: whiteouts, progress: progress)
    }

    public func importRootfs(fd: Int32, seekable: Bool, displayName: String, reference: ImageReference?, message: String?) throws -> ArchiveLoader.Loaded {
        let source: LayerStream.Source = seekable ? .range(fd: fd, offset: 0, length: nil) : .stream(fd: fd)
        let layer: StagedLayer
        do {
            layer = try ingest.ingest(source: source, expected: .init(), displayName: displayName, streamName: displayName)
        } catch let error as ArchiveError {
            throw BurrowError.invalidArgument("\(error): nothing was imported; make the archive again, e.g. tar -C ROOTFS -cf FILE .")
        }
        let diffID = layer.diffID
        let now = Timestamp.now()
        let platform = Platform.host
        let config = ImageConfiguration(architecture: platform.architecture, os: platform.os, variant: platform.variant,
                                        created: now, config: ContainerConfiguration(),
                                        rootfs: .init(diffIDs: [diffID]),
                                        history: [.init(created: now, createdBy: "burrow import \(displayName)", comment: message)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = Array(try encoder.encode(config))
        let registered = try ImageRegistrar(store: store).register(config: bytes, manifest: nil, manifestDigest: nil,
                                                                  layers: [layer], references: reference.map { [$0] } ?? [])
        var messages = registered.moved.map { "The image \($0.0.familiar) already exists, renaming the old one with ID \($0.1) to empty string" }
        messages.append(registered.id.description)
        return ArchiveLoader.Loaded(id: registered.id, references: registered.references, messages: messages)
    }
}
