/// Media types as string constants, not a closed enum: a type this code does
/// not know survives a round trip unchanged.
public enum MediaType {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let ociLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayerForeign = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
    public static let ociLayoutHeader = "application/vnd.oci.image.layout.v1+json"

    public static func isIndex(_ type: String?) -> Bool {
        type == ociIndex || type == dockerManifestList
    }

    public static func isManifest(_ type: String?) -> Bool {
        type == ociManifest || type == dockerManifest
    }

    public static func isLayer(_ type: String) -> Bool {
        [ociLayer, ociLayerGzip, ociLayerZstd, ociLayerNondistributable, ociLayerNondistributableGzip,
         dockerLayerGzip, dockerLayerForeign, "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"].contains(type)
    }
}
