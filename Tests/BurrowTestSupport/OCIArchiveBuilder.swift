import Foundation

/// Writes an oci-archive (oci-layout, index.json, blobs) from layer tars, so
/// tests can load images whose every byte they chose, or break on purpose.
public struct OCIArchiveBuilder {
    public var layers: [[UInt8]] = []
    public var config: [String: Any] = ["Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]]
    public var reference = "test/image:latest"
    public var compress = true
    /// zstd rather than gzip when compressing.
    public var zstd = false

    public init() {}

    public enum Damage {
        case none
        /// The last layer's stored bytes differ from what its digest says (same size).
        case layerDigest
        /// The configuration names a diff id the last layer does not unpack to.
        case diffID
        /// The last layer's descriptor gives a wrong size.
        case layerSize
        /// The last layer's blob is missing from the archive.
        case missingLayer
        /// The manifest is not JSON.
        case manifestJSON
    }

    public func build(damage: Damage = .none) throws -> [UInt8] {
        var blobs: [(digest: String, data: [UInt8])] = []
        var layerDescriptors: [[String: Any]] = []
        var diffIDs: [String] = []
        for (index, layer) in layers.enumerated() {
            let last = index == layers.count - 1
            let blob = compress ? (zstd ? try Fixtures.zstd(layer) : try Fixtures.gzip(layer)) : layer
            let digest = try Fixtures.sha256(blob)
            diffIDs.append(last && damage == .diffID ? try Fixtures.sha256(layer + [0]) : try Fixtures.sha256(layer))
            var stored = blob
            // Plain layers: flip a byte of the first file's data, so only the digest can tell.
            if last && damage == .layerDigest { stored[compress ? stored.count / 2 : 512] ^= 0x01 }
            if !(last && damage == .missingLayer) { blobs.append((digest, stored)) }
            layerDescriptors.append(["mediaType": compress ? (zstd ? "application/vnd.oci.image.layer.v1.tar+zstd" : "application/vnd.oci.image.layer.v1.tar+gzip") : "application/vnd.oci.image.layer.v1.tar",
                                     "digest": digest, "size": last && damage == .layerSize ? blob.count + 1 : blob.count])
        }
        let configObject: [String: Any] = ["architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                                           "config": config, "rootfs": ["type": "layers", "diff_ids": diffIDs]]
        let configBytes = Array(try JSONSerialization.data(withJSONObject: configObject, options: [.sortedKeys]))
        let configDigest = try Fixtures.sha256(configBytes)
        blobs.append((configDigest, configBytes))
        let manifest: [String: Any] = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                       "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": configBytes.count],
                                       "layers": layerDescriptors]
        var manifestBytes = Array(try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]))
        if damage == .manifestJSON { manifestBytes = Array("{\"schemaVersion\": 2, \"layers\": [".utf8) }
        let manifestDigest = try Fixtures.sha256(manifestBytes)
        blobs.append((manifestDigest, manifestBytes))
        let index: [String: Any] = ["schemaVersion": 2, "manifests": [["mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifestDigest, "size": manifestBytes.count, "annotations": ["org.opencontainers.image.ref.name": reference]]]]

        var tar = TarBuilder()
        tar.add("oci-layout", .file("{\"imageLayoutVersion\":\"1.0.0\"}"))
        tar.add("index.json", .bytes(Array(try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys]))))
        tar.add("blobs/", .directory)
        tar.add("blobs/sha256/", .directory)
        for blob in blobs { tar.add("blobs/sha256/\(blob.digest.dropFirst(7))", .bytes(blob.data)) }
        return tar.finished()
    }
}
