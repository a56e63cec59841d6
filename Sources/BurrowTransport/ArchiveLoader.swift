import BurrowArchive
import BurrowOCI
import BurrowStore
import BurrowSystem
import FoundationEssentials
import Glibc

/// `burrow load`: docker-archive (`docker save`) and oci-archive files, with
/// gzip, zstd or plain layers. Every blob is checked against its digest and
/// size; an image is registered only once all its layers are in the store.
/// Runs inside the user namespace.
public struct ArchiveLoader {
    public struct Loaded: Sendable {
        public let id: Digest
        public let references: [ImageReference]
        public let messages: [String]
    }

    let store: Store
    let ingest: LayerIngest
    let progress: LoadProgress

    public init(store: Store, ownership: OwnershipPolicy, whiteouts: WhiteoutFormat, progress: LoadProgress) {
        self.store = store
        self.progress = progress
        ingest = LayerIngest(store: store, ownership: ownership, whiteouts: whiteouts, progress: progress)
    }

    /// Loads every image in the archive on `fd`.
    public func load(fd input: Int32, displayName: String) throws -> [Loaded] {
        let staging = try store.makeStaging("load")
        defer { staging.discard() }
        let fd = try Spool.seekableTar(input, displayName: displayName, scratch: "\(staging.path)/archive.tar") { [progress] done in
            progress.advanced("Reading \(displayName)", done: done)
        }
        defer { if fd != input { close(fd) } }
        let index = try TarIndex(reading: fd, displayName: displayName)
        let archive = OuterArchive(fd: fd, index: index, displayName: displayName)
        if index.members["oci-layout"] != nil || index.members["index.json"] != nil && index.members["manifest.json"] == nil {
            return try loadOCI(archive)
        }
        if index.members["manifest.json"] != nil { return try loadDocker(archive) }
        throw BurrowError.invalidArgument("\(displayName) is neither a docker-archive (no manifest.json) nor an oci-archive (no oci-layout or index.json): make it with docker save, podman save or skopeo copy; for a root filesystem tarball use 'burrow import'")
    }

    // MARK: oci-archive

    private func loadOCI(_ archive: OuterArchive) throws -> [Loaded] {
        let indexBytes = try archive.file("index.json")
        let index: ImageIndex = try archive.decode(indexBytes, "index.json")
        var results: [Loaded] = []
        for descriptor in index.manifests {
            let references = names(from: descriptor.annotations, archive: archive)
            let manifestDescriptor = try resolvePlatform(descriptor, archive: archive)
            let manifestBytes = try archive.blob(manifestDescriptor)
            let manifest: ImageManifest = try archive.decode(manifestBytes, "manifest \(manifestDescriptor.digest)")
            let configBytes = try archive.blob(manifest.config)
            let config = try ConfigurationCheck.decode(configBytes, layerCount: manifest.layers.count, displayName: archive.displayName)
            var layers: [StagedLayer] = []
            for (layer, diffID) in zip(manifest.layers, config.rootfs.diffIDs) {
                guard MediaType.isLayer(layer.mediaType) else {
                    throw BurrowError.unsupported("\(archive.displayName): layer \(layer.digest) has media type \(layer.mediaType), which is not an image layer")
                }
                let member = try archive.blobMember(layer.digest)
                layers.append(try ingest.ingest(source: .range(fd: archive.fd, offset: member.offset, length: member.size),
                                                expected: .init(blobDigest: layer.digest, blobSize: layer.size, diffID: diffID),
                                                displayName: layer.digest.short))
            }
            let registered = try ImageRegistrar(store: store).register(config: configBytes, manifest: manifestBytes,
                                                                      manifestDigest: manifestDescriptor.digest,
                                                                      layers: layers, references: references)
            results.append(loaded(registered))
        }
        if results.isEmpty { throw BurrowError.invalidArgument("\(archive.displayName) holds no image: its index.json lists no manifests") }
        return results
    }

    /// An index inside the index: take the manifest for this machine.
    private func resolvePlatform(_ descriptor: Descriptor, archive: OuterArchive) throws -> Descriptor {
        var current = descriptor
        for _ in 0..<4 {
            guard MediaType.isIndex(current.mediaType) else { return current }
            let nested: ImageIndex = try archive.decode(try archive.blob(current), "index \(current.digest)")
            let host = Platform.host
            guard let chosen = host.select(from: nested.manifests) else {
                let available = nested.manifests.compactMap { $0.platform?.description }.joined(separator: ", ")
                throw BurrowError.unsupported("\(archive.displayName) has no image for \(host) (it has \(available.isEmpty ? "none" : available))")
            }
            current = chosen
        }
        throw BurrowError.invalidArgument("\(archive.displayName): indexes nest too deeply")
    }

    private func names(from annotations: [String: String]?, archive: OuterArchive) -> [ImageReference] {
        guard let annotations else { return [] }
        if let full = annotations[AnnotationKey.containerdImageName], let reference = try? ImageReference(parsing: full) {
            return [reference]
        }
        if let name = annotations[AnnotationKey.refName] {
            // A bare tag ("latest") names no repository; a full reference does.
            if name.contains(":") || name.contains("/"), let reference = try? ImageReference(parsing: name) { return [reference] }
            progress.warning("\(archive.displayName): the image is tagged only \"\(name)\", without a repository: it is loaded untagged")
        }
        return []
    }

    // MARK: docker-archive

    private func loadDocker(_ archive: OuterArchive) throws -> [Loaded] {
        let entries: [DockerArchiveManifest] = try archive.decode(try archive.file("manifest.json"), "manifest.json")
        if entries.isEmpty { throw BurrowError.invalidArgument("\(archive.displayName) holds no image: its manifest.json is empty") }
        var results: [Loaded] = []
        for entry in entries {
            let configBytes = try archive.file(entry.config)
            if let named = ArchiveLoader.digestInName(entry.config), named.description != SHA256Hasher.digest(configBytes) {
                throw BurrowError.invalidArgument("\(archive.displayName): \(entry.config) does not match its digest: the archive is damaged")
            }
            let config = try ConfigurationCheck.decode(configBytes, layerCount: entry.layers.count, displayName: archive.displayName)
            var layers: [StagedLayer] = []
            for (path, diffID) in zip(entry.layers, config.rootfs.diffIDs) {
                guard let member = archive.index.regularMember(path) else {
                    throw BurrowError.invalidArgument("\(archive.displayName) lacks \(path), a layer its manifest.json names: the archive is truncated or damaged")
                }
                layers.append(try ingest.ingest(source: .range(fd: archive.fd, offset: member.offset, length: member.size),
                                                expected: .init(blobDigest: ArchiveLoader.digestInName(path), blobSize: member.size, diffID: diffID),
                                                displayName: diffID.short))
            }
            var references: [ImageReference] = []
            for tag in entry.repoTags ?? [] {
                do {
                    references.append(try ImageReference(parsing: tag))
                } catch {
                    progress.warning("\(archive.displayName): ignoring the tag \(tag): \(error)")
                }
            }
            let registered = try ImageRegistrar(store: store).register(config: configBytes, manifest: nil, manifestDigest: nil,
                                                                      layers: layers, references: references)
            results.append(loaded(registered))
        }
        return results
    }

    /// "blobs/sha256/<hex>" and "<hex>.json" name their own digest.
    static func digestInName(_ path: String) -> Digest? {
        let parts = path.split(separator: "/")
        if parts.count == 3, parts[0] == "blobs" { return Digest("\(parts[1]):\(parts[2])") }
        if parts.count == 1, path.hasSuffix(".json") { return Digest("sha256:\(path.dropLast(5))") }
        return nil
    }

    private func loaded(_ registered: ImageRegistrar.Registered) -> Loaded {
        var messages: [String] = []
        for (reference, previous) in registered.moved {
            messages.append("The image \(reference.familiar) already exists, renaming the old one with ID \(previous) to empty string")
        }
        if registered.references.isEmpty {
            messages.append("Loaded image ID: \(registered.id)")
        } else {
            for reference in registered.references { messages.append("Loaded image: \(reference.familiar)") }
        }
        return Loaded(id: registered.id, references: registered.references, messages: messages)
    }
}

/// The outer archive, read in place.
struct OuterArchive {
    let fd: Int32
    let index: TarIndex
    let displayName: String

    func file(_ name: String) throws -> [UInt8] {
        guard let member = index.regularMember(name) else {
            throw BurrowError.invalidArgument("\(displayName) lacks \(name): the archive is truncated or not an image archive")
        }
        guard member.size <= 64 << 20 else { throw BurrowError.invalidArgument("\(displayName): \(name) is too large for a metadata file") }
        return try TarIndex.read(fd, at: member.offset, count: Int(member.size))
    }

    func blobMember(_ digest: Digest) throws -> TarIndex.Member {
        guard let member = index.regularMember("blobs/\(digest.algorithm)/\(digest.encoded)") else {
            throw BurrowError.invalidArgument("\(displayName) lacks the blob \(digest): the archive is truncated or damaged")
        }
        return member
    }

    /// A small blob, checked against its descriptor's size and digest.
    func blob(_ descriptor: Descriptor) throws -> [UInt8] {
        let member = try blobMember(descriptor.digest)
        guard member.size == descriptor.size else {
            throw BurrowError.invalidArgument("\(displayName): blob \(descriptor.digest) has \(member.size) bytes, its descriptor says \(descriptor.size): the archive is damaged")
        }
        let bytes = try file("blobs/\(descriptor.digest.algorithm)/\(descriptor.digest.encoded)")
        let actual = SHA256Hasher.digest(bytes)
        guard descriptor.digest.algorithm != "sha256" || actual == descriptor.digest.description else {
            throw BurrowError.invalidArgument("\(displayName): blob \(descriptor.digest) has digest \(actual): the archive is damaged")
        }
        return bytes
    }

    func decode<T: Decodable>(_ bytes: [UInt8], _ what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw BurrowError.invalidArgument("\(displayName): \(what) is not valid (\(ArchiveLoader.describe(error)))")
        }
    }
}

extension ArchiveLoader {
    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not an object of the expected shape" : "wrong type at \(path)"
        case DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not JSON" : "\(context.debugDescription) at \(path)"
        default: return "\(error)"
        }
    }
}
