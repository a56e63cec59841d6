import BurrowHTTP
import BurrowOCI
import BurrowStore
import BurrowSystem
import FoundationEssentials
import Glibc
import Synchronization

/// `burrow push`: the image's configuration and kept layer blobs, then its
/// manifest: the one it was pulled or loaded with when that still names the
/// same blobs (so its digest survives the round trip), an OCI manifest
/// otherwise. Blobs the registry already has are not sent.
public struct ImagePusher {
    public struct Pushed: Sendable {
        public let digest: Digest
        public let size: Int
        public let layerNotes: [String]
    }

    let store: Store
    let settings: RegistrySettings
    let progress: SerializedProgress

    public init(store: Store, settings: RegistrySettings, progress: LoadProgress) {
        self.store = store
        self.settings = settings
        self.progress = SerializedProgress(progress)
    }

    /// The manifest to send for the image, and its media type.
    /// `compress` (push) gzips plain tar layers when a manifest has to be made.
    public static func manifest(store: Store, for id: Digest, name: String, compress: Bool = false) throws -> (bytes: [UInt8], mediaType: String, blobs: [(LayerBlob, String)]) {
        guard let record = try store.imageRecord(id) else { throw BurrowError.notFound("image \(name) is not in the store") }
        var blobs: [(LayerBlob, String)] = []
        for diffID in record.layers {
            guard let blob = store.layerBlob(diffID) else {
                throw BurrowError.unsupported("layer \(diffID.short) of \(name) has no stored blob (it was imported from a stream or stored by an older burrow): pull or load the image again, then push")
            }
            blobs.append((blob, store.layerBlobPath(diffID)))
        }
        let config = try store.imageConfigBytes(id)
        if let bytes = try FileSystem.readFileIfPresent(store.layout.imageManifest(id)),
           let stored = try? JSONDecoder().decode(ImageManifest.self, from: Data(bytes)),
           stored.config.digest == id, stored.config.size == Int64(config.count),
           stored.layers.map(\.digest) == blobs.map(\.0.digest), stored.layers.map(\.size) == blobs.map(\.0.size) {
            return (bytes, stored.mediaType ?? MediaType.ociManifest, blobs)
        }
        if compress {
            for (i, diffID) in record.layers.enumerated() where blobs[i].0.mediaType == MediaType.ociLayer {
                blobs[i] = try BlobCompressor.gzipped(store: store, diffID: diffID, plain: blobs[i].0)
            }
        }
        let manifest = ImageManifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: id, size: Int64(config.count)),
                                     layers: blobs.map { Descriptor(mediaType: $0.0.mediaType, digest: $0.0.digest, size: $0.0.size) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (Array(try encoder.encode(manifest)), MediaType.ociManifest, blobs)
    }

    public func push(_ id: Digest, to reference: ImageReference) throws -> Pushed {
        let (manifestBytes, mediaType, blobs) = try ImagePusher.manifest(store: store, for: id, name: reference.familiar, compress: true)
        let client = try RegistryClient.connect(domain: reference.domain, repository: reference.path, settings: settings, actions: "pull,push")
        let config = try store.imageConfigBytes(id)
        var notes = [String](repeating: "", count: blobs.count)
        let noteSlots = NoteSlots(count: blobs.count + 1)
        try Parallel.run(count: blobs.count + 1, width: 3) { i in
            if i == blobs.count {
                _ = try upload(client, digest: id, size: Int64(config.count), body: .bytes(config), name: "config")
                return
            }
            let (blob, path) = blobs[i]
            let fd = try syscall("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
            defer { close(fd) }
            let sent = try upload(client, digest: blob.digest, size: blob.size, body: .file(fd: fd, offset: 0, length: blob.size),
                                  name: blob.digest.short, mountFrom: blob.source)
            noteSlots.set(i, "\(blob.digest.short): \(sent)")
        }
        for i in 0..<blobs.count { notes[i] = noteSlots.get(i) }
        let tag = reference.tag ?? "latest"
        let response = try client.send("PUT", "manifests/\(reference.digest?.description ?? tag)", headers: [("Content-Type", mediaType)],
                                       body: .bytes(manifestBytes))
        guard response.isSuccess else {
            throw BurrowError.engine("the registry \(client.domain) refused the manifest of \(reference.familiar): \(RegistryClient.errorText(response))")
        }
        return Pushed(digest: Digest(SHA256Hasher.digest(manifestBytes))!, size: manifestBytes.count, layerNotes: notes)
    }

    /// Sends one blob unless the registry has it or mounts it; says which.
    private func upload(_ client: RegistryClient, digest: Digest, size: Int64, body: HTTPRequest.Body, name: String,
                        mountFrom source: String? = nil) throws -> String {
        let head = try client.send("HEAD", "blobs/\(digest)")
        if head.isSuccess {
            progress.finished(name, note: "Layer already exists")
            return "Layer already exists"
        }
        // A blob pulled from another repository of the same registry is
        // mounted from there (201) rather than sent; 202 starts a plain upload.
        var mount = ""
        let prefix = client.domain + "/"
        if let source, source.hasPrefix(prefix), source.dropFirst(prefix.count) != client.repository {
            mount = "?mount=\(HTTPURL.escape(digest.description))&from=\(HTTPURL.escape(String(source.dropFirst(prefix.count))))"
        }
        let start = try client.send("POST", "blobs/uploads/" + mount)
        if start.status == 201 {
            let note = "Mounted from \(source!.dropFirst(prefix.count))"
            progress.finished(name, note: note)
            return note
        }
        guard start.status == 202, let location = start.header("location") else {
            throw BurrowError.engine("the registry \(client.domain) did not start an upload for \(digest): \(RegistryClient.errorText(start))")
        }
        let separator = location.contains("?") ? "&" : "?"
        progress.started(name, total: size)
        let put = try client.send("PUT", location + separator + "digest=" + HTTPURL.escape(digest.description),
                                  headers: [("Content-Type", "application/octet-stream")], body: body)
        guard put.status == 201 || put.isSuccess else {
            throw BurrowError.engine("the registry \(client.domain) refused the blob \(digest): \(RegistryClient.errorText(put))")
        }
        progress.finished(name, note: "Pushed")
        return "Pushed"
    }
}

final class NoteSlots: @unchecked Sendable {
    private var notes: [String]
    private let lock = Mutex(())
    init(count: Int) { notes = Array(repeating: "", count: count) }
    func set(_ i: Int, _ note: String) { lock.withLock { _ in notes[i] = note } }
    func get(_ i: Int) -> String { lock.withLock { _ in notes[i] } }
}
