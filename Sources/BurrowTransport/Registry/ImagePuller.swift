import BurrowArchive
import BurrowHTTP
import BurrowOCI
import BurrowStore
import BurrowSystem
import FoundationEssentials
import Glibc
import Synchronization

/// `burrow pull`: manifest (through an index for the platform asked for),
/// configuration, then the layers the store lacks, downloaded in parallel.
/// Every document and blob is checked against its digest and size over the
/// bytes received before anything is kept; layers are committed with the
/// image by ImageRegistrar, as `burrow load` does. Runs inside the user namespace.
public struct ImagePuller {
    public struct Pulled: Sendable {
        public let id: Digest
        public let manifestDigest: Digest
        public let reference: ImageReference
        public let fetchedLayers: Int
        public let layerNotes: [String]
    }

    let store: Store
    let ingest: LayerIngest
    let progress: SerializedProgress
    let settings: RegistrySettings
    let parallelDownloads = 3

    public static let manifestTypes = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest]

    public init(store: Store, ownership: OwnershipPolicy, whiteouts: WhiteoutFormat, progress: LoadProgress, settings: RegistrySettings) {
        self.store = store
        self.progress = SerializedProgress(progress)
        self.settings = settings
        ingest = LayerIngest(store: store, ownership: ownership, whiteouts: whiteouts, progress: self.progress)
    }

    public func pull(_ reference: ImageReference, platform: Platform) throws -> Pulled {
        // Mirrors first, in order, then the registry itself; the one that
        // serves the manifest serves the blobs too.
        let endpoints = (settings.mirrors[reference.domain] ?? []) + [reference.domain]
        var found: (RegistryClient, [UInt8], Digest)? = nil
        for endpoint in endpoints {
            do {
                let client = try RegistryClient.connect(domain: endpoint, repository: reference.path, settings: settings)
                let (bytes, digest) = try fetchManifest(client, reference.digest?.description ?? reference.tag ?? "latest",
                                                        expected: reference.digest, size: nil, name: reference.familiar)
                found = (client, bytes, digest)
                break
            } catch where endpoint != reference.domain {
                progress.warning("the mirror \(endpoint) did not serve \(reference.familiar) (\(error)): trying the next")
            }
        }
        guard let (client, firstBytes, firstDigest) = found else { throw BurrowError.engine("no registry served \(reference.familiar)") }
        var bytes = firstBytes
        var digest = firstDigest
        var document = try decodeKind(bytes, name: reference.familiar)
        var depth = 0
        while MediaType.isIndex(document) {
            depth += 1
            guard depth < 4 else { throw BurrowError.unsupported("\(reference.familiar): indexes nest too deeply") }
            let index: ImageIndex = try decode(bytes, "the index of \(reference.familiar)")
            let chosen = try ImagePuller.choose(platform, from: index, name: reference.familiar)
            (bytes, digest) = try fetchManifest(client, chosen.digest.description, expected: chosen.digest, size: chosen.size, name: reference.familiar)
            document = try decodeKind(bytes, name: reference.familiar)
        }
        let manifest: ImageManifest = try decode(bytes, "the manifest of \(reference.familiar)")
        for layer in manifest.layers where !MediaType.isLayer(layer.mediaType) {
            throw BurrowError.unsupported("\(reference.familiar): layer \(layer.digest) has media type \(layer.mediaType), which is not an image layer (is this an artifact rather than an image?)")
        }
        let configBytes = try fetchSmallBlob(client, manifest.config, what: "the configuration of \(reference.familiar)")
        let config = try ConfigurationCheck.decode(configBytes, layerCount: manifest.layers.count, displayName: reference.familiar)

        let staging = try store.makeStaging("pull")
        defer { staging.discard() }
        let pairs = Array(zip(manifest.layers, config.rootfs.diffIDs))
        let staged = StagedSlots(count: pairs.count)
        var missing: [Int] = []
        var notes = [String](repeating: "", count: pairs.count)
        for (i, (layer, diffID)) in pairs.enumerated() {
            if store.layerExists(diffID) {
                staged.set(i, StagedLayer(diffID: diffID, staging: nil))
                progress.finished(layer.digest.short, note: "Already exists")
                notes[i] = "\(layer.digest.short): Already exists"
            } else {
                missing.append(i)
                notes[i] = "\(layer.digest.short): Pull complete"
            }
        }
        try Parallel.run(count: missing.count, width: parallelDownloads) { n in
            let i = missing[n]
            let (layer, diffID) = pairs[i]
            let file = "\(staging.path)/\(layer.digest.encoded)"
            try download(client, layer, to: file)
            let fd = try syscall("open", file) { open(file, O_RDONLY | O_CLOEXEC) }
            defer { close(fd); unlink(file) }
            staged.set(i, try ingest.ingest(source: .range(fd: fd, offset: 0, length: layer.size),
                                            expected: .init(blobDigest: layer.digest, blobSize: layer.size, diffID: diffID),
                                            displayName: layer.digest.short, blobFile: file,
                                            blobSource: "\(client.domain)/\(client.repository)"))
        }
        let references = reference.tag != nil && reference.digest == nil ? [reference] : []
        // The digest the name points at (an index's, for a multi-platform
        // image) is the one Docker shows and the one `name@digest` asks for.
        let registered = try ImageRegistrar(store: store).register(config: configBytes, manifest: bytes, manifestDigest: firstDigest,
                                                                  layers: staged.all(), references: references)
        return Pulled(id: registered.id, manifestDigest: firstDigest, reference: reference, fetchedLayers: missing.count, layerNotes: notes)
    }

    /// Every tag of the repository (`--all-tags`), following the Link header of paged lists.
    public func tags(of reference: ImageReference) throws -> [String] {
        let client = try RegistryClient.connect(domain: reference.domain, repository: reference.path, settings: settings)
        var tags: [String] = []
        var path = "tags/list"
        for _ in 0..<100 {
            let response = try client.send("GET", path)
            guard response.isSuccess else {
                throw BurrowError.notFound("the registry \(client.domain) lists no tags for \(reference.repository) (\(RegistryClient.errorText(response)))")
            }
            guard let json = try? JSONValue(parsing: response.body) else { throw BurrowError.engine("the tag list of \(reference.repository) is not JSON") }
            tags += json["tags"]?.strings ?? []
            // Link: </v2/name/tags/list?n=100&last=x>; rel="next"
            guard let link = response.header("link"), let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">"),
                  open < close, link.contains("rel=\"next\"") else { break }
            path = String(link[link.index(after: open)..<close])
        }
        return tags
    }

    /// Docker's choice among an index's entries; the error names every platform there is.
    public static func choose(_ platform: Platform, from index: ImageIndex, name: String) throws -> Descriptor {
        let images = index.manifests.filter { MediaType.isManifest($0.mediaType) || MediaType.isIndex($0.mediaType) || $0.mediaType.isEmpty }
        if let chosen = platform.select(from: images.filter { $0.platform?.os != "unknown" }) { return chosen }
        var available: [String] = []
        for entry in images {
            guard let p = entry.platform, p.os != "unknown" else { continue }
            if !available.contains(p.description) { available.append(p.description) }
        }
        throw BurrowError.notFound("\(name) has no image for \(platform): it has \(available.isEmpty ? "none" : available.joined(separator: ", ")); choose one with --platform")
    }

    // MARK: documents

    private func fetchManifest(_ client: RegistryClient, _ reference: String, expected: Digest?, size: Int64?, name: String) throws -> ([UInt8], Digest) {
        let response = try client.send("GET", "manifests/\(reference)", headers: [("Accept", ImagePuller.manifestTypes.joined(separator: ", "))],
                                       limit: 4 << 20)
        if response.status == 404 {
            throw BurrowError.notFound("manifest for \(name) not found (\(RegistryClient.errorText(response))): check the name and tag")
        }
        guard response.isSuccess else {
            throw BurrowError.engine("the registry \(client.domain) answered \(RegistryClient.errorText(response)) for the manifest of \(name)")
        }
        let bytes = response.body
        guard !bytes.isEmpty else { throw BurrowError.engine("the registry \(client.domain) sent an empty manifest for \(name)") }
        if let size, Int64(bytes.count) != size {
            throw BurrowError.engine("the manifest \(reference) of \(name) has \(bytes.count) bytes, its index says \(size): the registry sent something else")
        }
        let actual = SHA256Hasher.digest(bytes)
        if let expected, expected.algorithm == "sha256", expected.description != actual {
            throw BurrowError.engine("the manifest of \(name) has digest \(actual), expected \(expected): the registry sent something else; nothing was stored")
        }
        if expected == nil, let header = response.header("docker-content-digest"), header.hasPrefix("sha256:"), header != actual {
            throw BurrowError.engine("the manifest of \(name) has digest \(actual), the registry says \(header): nothing was stored")
        }
        return (bytes, expected ?? Digest(actual)!)
    }

    private func decodeKind(_ bytes: [UInt8], name: String) throws -> String {
        guard let json = try? JSONValue(parsing: bytes) else { throw BurrowError.engine("the manifest of \(name) is not JSON") }
        if json["schemaVersion"]?.int64 == 1 {
            throw BurrowError.unsupported("\(name) has a schema 1 manifest, which registries no longer serve and burrow does not read: push it again with a current tool")
        }
        if let type = json["mediaType"]?.string { return type }
        return json["manifests"] != nil ? MediaType.ociIndex : MediaType.ociManifest
    }

    private func decode<T: Decodable>(_ bytes: [UInt8], _ what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw BurrowError.engine("\(what) is not valid (\(ArchiveLoader.describe(error)))")
        }
    }

    private func fetchSmallBlob(_ client: RegistryClient, _ descriptor: Descriptor, what: String) throws -> [UInt8] {
        guard descriptor.size <= 16 << 20 else { throw BurrowError.unsupported("\(what) is \(descriptor.size) bytes, too large for a configuration") }
        let response = try client.send("GET", "blobs/\(descriptor.digest)", limit: Int(descriptor.size) + 1)
        guard response.isSuccess else {
            throw BurrowError.engine("the registry \(client.domain) answered \(RegistryClient.errorText(response)) for \(what) (\(descriptor.digest))")
        }
        try BlobCheck.verify(digest: SHA256Hasher.digest(response.body), size: Int64(response.body.count), against: descriptor, what: what)
        return response.body
    }

    // MARK: layers

    /// Downloads one blob into `path`, hashing as it arrives. A dropped
    /// connection is retried twice, from where it broke when the registry
    /// honours a Range request, from the start otherwise.
    private func download(_ client: RegistryClient, _ descriptor: Descriptor, to path: String) throws {
        let name = descriptor.digest.short
        let fd = try syscall("open", path) { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        var hasher = SHA256Hasher()
        var received: Int64 = 0
        var attempt = 0
        progress.started(name, total: descriptor.size)
        while true {
            attempt += 1
            let resumeFrom = received
            let headers = resumeFrom > 0 ? [("Range", "bytes=\(resumeFrom)-")] : []
            do {
                let response = try client.send("GET", "blobs/\(descriptor.digest)", headers: headers, limit: 64 << 10, onHead: { head in
                    // 206 goes on from where the last attempt stopped; 200 is the whole blob again.
                    if resumeFrom > 0 && !(head.status == 206 && head.header("content-range")?.hasPrefix("bytes \(resumeFrom)-") == true) {
                        hasher = SHA256Hasher()
                        received = 0
                        try syscall("ftruncate", path) { ftruncate(fd, 0) }
                    }
                }) { chunk in
                    guard received + Int64(chunk.count) <= descriptor.size else {
                        throw BurrowError.engine("layer \(name): the registry sent more than the \(descriptor.size) bytes its descriptor says; nothing was stored")
                    }
                    hasher.update(chunk)
                    var offset = 0
                    while offset < chunk.count {
                        let n = pwrite(fd, chunk.baseAddress! + offset, chunk.count - offset, off_t(received + Int64(offset)))
                        if n < 0 && errno == EINTR { continue }
                        if n < 0 { throw SystemError("write", path: path, errno: errno) }
                        offset += n
                    }
                    received += Int64(chunk.count)
                    progress.advanced(name, done: received)
                }
                if response.status == 404 {
                    throw BurrowError.notFound("layer \(descriptor.digest) of \(client.repository) is not on the registry \(client.domain) (\(RegistryClient.errorText(response)))")
                }
                guard response.isSuccess else {
                    throw BurrowError.engine("the registry \(client.domain) answered \(RegistryClient.errorText(response)) for layer \(descriptor.digest)")
                }
            } catch let error as BurrowError where error.code == .engine && error.message.contains(" failed: ") && attempt < 3 {
                progress.warning("layer \(name): \(error.message); retrying\(received > 0 ? " from byte \(received)" : "")")
                continue
            }
            try BlobCheck.verify(digest: hasher.finish(), size: received, against: descriptor, what: "layer \(name)")
            // The file becomes the layer's kept blob: on disk before the layer's record is.
            try syscall("fsync", path) { fsync(fd) }
            progress.finished(name, note: "Download complete")
            return
        }
    }
}

enum BlobCheck {
    static let emptyDigest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    static func verify(digest: String, size: Int64, against descriptor: Descriptor, what: String) throws {
        if size == 0 && descriptor.size != 0 {
            throw BurrowError.engine("\(what): the registry sent an empty body, expected \(descriptor.size) bytes with digest \(descriptor.digest); nothing was stored")
        }
        if size != descriptor.size {
            throw BurrowError.engine("\(what): the registry sent \(size) bytes, the manifest says \(descriptor.size); nothing was stored")
        }
        if descriptor.digest.algorithm == "sha256", digest != descriptor.digest.description {
            throw BurrowError.engine("\(what): the registry sent content with digest \(digest), expected \(descriptor.digest); nothing was stored")
        }
    }
}

/// Results filled in by parallel downloads, read once all are done.
final class StagedSlots: @unchecked Sendable {
    private var slots: [StagedLayer?]
    private let lock = Mutex(())

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ layer: StagedLayer) { lock.withLock { _ in slots[i] = layer } }

    func all() throws -> [StagedLayer] {
        try lock.withLock { _ in
            try slots.map { slot in
                guard let slot else { throw BurrowError.engine("a layer was not downloaded") }
                return slot
            }
        }
    }
}
