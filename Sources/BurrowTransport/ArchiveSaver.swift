import BurrowOCI
import BurrowStore
import BurrowSystem
import CArchive
import FoundationEssentials
import Glibc

/// `burrow save`: images as an OCI image layout in a tar (oci-archive) or
/// the same with Docker's manifest.json beside it (docker-archive, as
/// `docker save` writes since Docker 25), so that `docker load`, `podman
/// load`, skopeo and `burrow load` all read it. Blobs are the kept layer
/// blobs and manifests, written once however many images share them.
public struct ArchiveSaver {
    public enum Format: String, Sendable { case docker = "docker-archive", oci = "oci-archive" }

    public struct Image: Sendable {
        public let id: Digest
        public let references: [ImageReference]
        public let name: String
        public init(id: Digest, references: [ImageReference], name: String) {
            self.id = id
            self.references = references
            self.name = name
        }
    }

    let store: Store

    public init(store: Store) { self.store = store }

    public func save(_ images: [Image], format: Format, to fd: Int32) throws {
        let writer = try ArchiveFileWriter(fd: fd)
        var written = Set<Digest>()
        var indexEntries: [JSONValue] = []
        var dockerEntries: [JSONValue] = []
        try writer.add("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        try writer.directory("blobs/")
        try writer.directory("blobs/sha256/")
        for image in images {
            let (manifest, mediaType, blobs) = try ImagePusher.manifest(store: store, for: image.id, name: image.name)
            let manifestDigest = Digest(SHA256Hasher.digest(manifest))!
            let config = try store.imageConfigBytes(image.id)
            func blobName(_ digest: Digest) -> String { "blobs/\(digest.algorithm)/\(digest.encoded)" }
            if written.insert(image.id).inserted { try writer.add(blobName(image.id), config) }
            for (blob, path) in blobs where written.insert(blob.digest).inserted {
                try writer.addFile(blobName(blob.digest), path: path, size: blob.size)
            }
            if written.insert(manifestDigest).inserted { try writer.add(blobName(manifestDigest), manifest) }
            func entry(_ annotations: [(String, JSONValue)]) -> JSONValue {
                var members: [(String, JSONValue)] = [("mediaType", .string(mediaType)), ("digest", .string(manifestDigest.description)),
                                                      ("size", .number(String(manifest.count)))]
                if !annotations.isEmpty { members.append(("annotations", .object(annotations))) }
                return .object(members)
            }
            if image.references.isEmpty {
                indexEntries.append(entry([]))
            }
            for reference in image.references {
                indexEntries.append(entry([(AnnotationKey.containerdImageName, .string(reference.description)),
                                           (AnnotationKey.refName, .string(reference.tag ?? "latest"))]))
            }
            dockerEntries.append(.object([
                ("Config", .string(blobName(image.id))),
                ("RepoTags", .array(image.references.map { .string($0.familiar) })),
                ("Layers", .array(blobs.map { .string(blobName($0.0.digest)) })),
            ]))
        }
        let index = JSONValue.object([("schemaVersion", .number("2")), ("mediaType", .string(MediaType.ociIndex)),
                                      ("manifests", .array(indexEntries))])
        try writer.add("index.json", Array(index.serialized.utf8))
        if format == .docker { try writer.add("manifest.json", Array(JSONValue.array(dockerEntries).serialized.utf8)) }
        try writer.finish()
    }
}

/// A plain ustar/pax archive of whole files, over libarchive.
final class ArchiveFileWriter {
    private let archive: OpaquePointer
    private let header: OpaquePointer

    init(fd: Int32) throws {
        archive = archive_write_new()
        header = archive_entry_new()
        archive_write_set_format_pax_restricted(archive)
        archive_write_set_bytes_in_last_block(archive, 1)
        guard archive_write_open_fd(archive, fd) == ARCHIVE_OK else { throw BurrowError.engine("cannot write the archive: \(message)") }
    }

    deinit {
        archive_entry_free(header)
        archive_write_free(archive)
    }

    private var message: String { archive_error_string(archive).map { String(cString: $0) } ?? "unknown error" }

    private func begin(_ name: String, size: Int64, directory: Bool = false) throws {
        archive_entry_clear(header)
        archive_entry_copy_pathname(header, name)
        archive_entry_set_filetype(header, directory ? 0o040000 : 0o100000)
        archive_entry_set_perm(header, directory ? 0o755 : 0o644)
        archive_entry_set_size(header, size)
        archive_entry_set_mtime(header, 0, 0)
        guard archive_write_header(archive, header) == ARCHIVE_OK else { throw BurrowError.engine("cannot write \(name) to the archive: \(message)") }
    }

    func directory(_ name: String) throws { try begin(name, size: 0, directory: true) }

    func add(_ name: String, _ bytes: [UInt8]) throws {
        try begin(name, size: Int64(bytes.count))
        let n = bytes.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw BurrowError.engine("cannot write \(name) to the archive: \(message)") }
    }

    func addFile(_ name: String, path: String, size: Int64) throws {
        try begin(name, size: size)
        let fd = try syscall("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var done: Int64 = 0
        while done < size {
            let want = Int(min(Int64(buffer.count), size - done))
            let got = try buffer.withUnsafeMutableBytes { raw in try syscall("read", path) { read(fd, raw.baseAddress, want) } }
            guard got > 0 else { throw BurrowError.engine("\(path) is shorter than its record says: the store is damaged") }
            let n = buffer.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, got) }
            guard n == got else { throw BurrowError.engine("cannot write \(name) to the archive: \(message)") }
            done += Int64(got)
        }
    }

    func finish() throws {
        guard archive_write_close(archive) == ARCHIVE_OK else { throw BurrowError.engine("cannot finish the archive: \(message)") }
    }
}
