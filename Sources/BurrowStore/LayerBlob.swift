import BurrowOCI
import BurrowSystem
import FoundationEssentials

/// The compressed blob a layer came in, kept beside its unpacked tree
/// (`layers/<diff id>/blob`) so that push and save send the very bytes the
/// image's manifest names: a tree packed again would hash differently.
public struct LayerBlob: Codable, Sendable, Equatable {
    public var digest: Digest
    public var size: Int64
    public var mediaType: String
    /// The repository it was pulled from (`registry/path`), which push may
    /// ask a registry to mount the blob from instead of sending it.
    public var source: String?

    public init(digest: Digest, size: Int64, mediaType: String, source: String? = nil) {
        self.digest = digest
        self.size = size
        self.mediaType = mediaType
        self.source = source
    }

    /// The OCI media type for a blob that starts with `magic`; nil for
    /// compressions registries do not carry (xz, bzip2).
    public static func mediaType(magic: [UInt8]) -> String? {
        if magic.starts(with: [0x1f, 0x8b]) { return MediaType.ociLayerGzip }
        if magic.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return MediaType.ociLayerZstd }
        if magic.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a]) || magic.starts(with: [0x42, 0x5a, 0x68]) { return nil }
        return MediaType.ociLayer
    }
}

extension Store {
    public func layerBlobPath(_ diffID: Digest) -> String { "\(layout.layer(diffID))/blob" }

    /// The layer's blob, when it was kept.
    public func layerBlob(_ diffID: Digest) -> LayerBlob? {
        guard let bytes = try? FileSystem.readFileIfPresent("\(layout.layer(diffID))/blob.json"),
              let blob = try? JSONDecoder().decode(LayerBlob.self, from: Data(bytes)),
              FileSystem.exists(layerBlobPath(diffID)) else { return nil }
        return blob
    }

    /// Writes blob.json into a staging layer directory whose `blob` is in place.
    public static func writeLayerBlobRecord(_ blob: LayerBlob, in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically("\(directory)/blob.json", Array(try encoder.encode(blob)), mode: 0o644, durable: true)
    }
}
