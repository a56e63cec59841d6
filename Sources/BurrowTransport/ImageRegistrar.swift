import BurrowOCI
import BurrowStore
import BurrowSystem
import FoundationEssentials

/// Moves an image's staged layers into the store, records the image and
/// points its tags at it: one critical section under the store's exclusive
/// lock, entered only once every layer has been unpacked and checked.
struct ImageRegistrar {
    let store: Store

    struct Registered {
        let id: Digest
        let references: [ImageReference]
        /// Tags that moved here from another image.
        let moved: [(ImageReference, Digest)]
    }

    func register(config: [UInt8], manifest: [UInt8]?, manifestDigest: Digest?, layers staged: [StagedLayer], references: [ImageReference]) throws -> Registered {
        let layers = staged.map(\.diffID)
        guard let id = Digest(SHA256Hasher.digest(config)) else { throw BurrowError.engine("cannot hash the configuration") }
        let lock = try store.lock(.exclusive)
        defer { _ = lock }
        for layer in staged {
            if let staging = layer.staging { _ = try store.commitLayer(from: staging.path, diffID: layer.diffID) }
        }
        var size: Int64 = 0
        for layer in layers {
            guard let record = try store.layerRecord(layer) else {
                throw BurrowError.engine("layer \(layer) disappeared while the image was loading (removed by another burrow command?): load the image again")
            }
            size += record.size
        }
        let record = ImageRecord(id: id, layers: layers, manifestDigest: manifestDigest, size: size, added: Timestamp.now())
        try store.writeImage(record, config: config, manifest: manifest)
        var tags = try store.tags()
        var moved: [(ImageReference, Digest)] = []
        for reference in references {
            if let previous = tags[reference.description], previous != id { moved.append((reference, previous)) }
            tags[reference.description] = id
        }
        if !references.isEmpty { try store.writeTags(tags) }
        return Registered(id: id, references: references, moved: moved)
    }
}

enum ConfigurationCheck {
    /// The configuration must parse and name one diff id per layer.
    static func decode(_ bytes: [UInt8], layerCount: Int, displayName: String) throws -> ImageConfiguration {
        let config: ImageConfiguration
        do {
            config = try JSONDecoder().decode(ImageConfiguration.self, from: Data(bytes))
        } catch {
            throw BurrowError.invalidArgument("\(displayName): the image configuration is not valid (\(ArchiveLoader.describe(error))): the archive is damaged")
        }
        guard config.rootfs.diffIDs.count == layerCount else {
            throw BurrowError.invalidArgument("\(displayName): the configuration lists \(config.rootfs.diffIDs.count) layers, the manifest \(layerCount): the archive is damaged")
        }
        return config
    }
}
