import BurrowOCI
import BurrowSystem
import Glibc

/// The image and container store of one user: content-addressed layers,
/// images by configuration digest, a tag table, container records.
public final class Store: @unchecked Sendable {
    public let layout: StoreLayout

    /// Opens the store, creating its directories (private to the user: the
    /// layers hold setuid files that other users must not reach).
    public init(root: String) throws {
        layout = StoreLayout(root: root)
        do {
            try FileSystem.makeDirectories(root, mode: 0o700)
            for directory in [layout.layers, layout.images, layout.containers, layout.names, layout.staging, layout.volumes] {
                try FileSystem.makeDirectory(directory, mode: 0o700)
            }
        } catch let error as SystemError {
            let reason: String
            if error.errno == EEXIST && !FileSystem.isDirectory(error.path ?? root) {
                reason = "\(error.path ?? root) is not a directory"
            } else if error.errno == EACCES {
                reason = "\(error.path ?? root): permission denied (it belongs to another user, or a directory above it is closed)"
            } else {
                reason = "\(error)"
            }
            throw BurrowError(.permissionDenied, "cannot use the store at \(root): \(reason); choose another with --root DIR or BURROW_ROOT")
        }
    }

    public func lock(_ mode: FileLock.Mode) throws -> FileLock {
        try FileLock(path: layout.lockFile, mode: mode)
    }

    // MARK: staging

    public func makeStaging(_ purpose: String) throws -> StagingDirectory {
        try StagingDirectory(parent: layout.staging, purpose: purpose)
    }

    /// Clears what interrupted commands left behind. Run inside the user
    /// namespace: their files may belong to subordinate ids.
    public func sweepStaging() {
        StagingDirectory.sweep(layout.staging)
    }

    // MARK: tags

    public func tags() throws -> [String: Digest] {
        try JSONFiles.read(TagTable.self, from: layout.tagsFile)?.tags ?? [:]
    }

    /// Call with the store locked exclusively.
    public func writeTags(_ tags: [String: Digest]) throws {
        try JSONFiles.write(TagTable(tags), to: layout.tagsFile, durable: true)
    }

    public func references(of id: Digest, in tags: [String: Digest]) -> [ImageReference] {
        tags.filter { $0.value == id }.keys.sorted().compactMap { try? ImageReference(parsing: $0) }
    }

    // MARK: images

    public func imageRecord(_ id: Digest) throws -> ImageRecord? {
        try JSONFiles.read(ImageRecord.self, from: layout.imageRecord(id))
    }

    public func imageConfigBytes(_ id: Digest) throws -> [UInt8] {
        try FileSystem.readFile(layout.imageConfig(id))
    }

    public func images() throws -> [ImageRecord] {
        var records: [ImageRecord] = []
        for name in try FileSystem.entries(of: layout.images) {
            guard let id = Digest("sha256:\(name)"), let record = try imageRecord(id) else { continue }
            records.append(record)
        }
        return records
    }

    public func imageExists(_ id: Digest) -> Bool {
        FileSystem.exists(layout.imageRecord(id))
    }

    /// An image by reference (`busybox`, `localhost/app:1`), by id or by an
    /// id prefix, as Docker resolves them.
    public func resolveImage(_ text: String, tags: [String: Digest]? = nil) throws -> Digest {
        let tags = try tags ?? self.tags()
        if let reference = try? ImageReference(parsing: text) {
            if let id = tags[reference.description] { return id }
            if let digest = reference.digest, reference.tag == nil || reference.tag == "latest" {
                for record in try images() where record.manifestDigest == digest { return record.id }
            }
        }
        var prefix = Substring(text)
        if prefix.hasPrefix("sha256:") { prefix = prefix.dropFirst(7) }
        if Hex.isLowercaseHex(prefix), prefix.count <= 64 {
            let matches = try FileSystem.entries(of: layout.images).filter { $0.hasPrefix(prefix) }
            if matches.count == 1, let id = Digest("sha256:\(matches[0])"), imageExists(id) { return id }
            if matches.count > 1 { throw BurrowError.invalidArgument("image id prefix \(text) is ambiguous: give more digits") }
        }
        do {
            _ = try ImageReference(parsing: text)
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }
        throw BurrowError.notFound("image \(text) is not in the store: pull it with 'burrow pull \(text)', load it with 'burrow load -i FILE', or build it")
    }

    /// Writes the image's files into place. Call with the store locked exclusively.
    public func writeImage(_ record: ImageRecord, config: [UInt8], manifest: [UInt8]?) throws {
        let staging = try makeStaging("image")
        defer { staging.discard() }
        try FileSystem.writeFile("\(staging.path)/config.json", config, mode: 0o600)
        if let manifest { try FileSystem.writeFile("\(staging.path)/manifest.json", manifest, mode: 0o600) }
        try JSONFiles.write(record, to: "\(staging.path)/image.json", durable: true)
        let target = layout.image(record.id)
        if FileSystem.exists(target) {
            try JSONFiles.write(record, to: layout.imageRecord(record.id), durable: true)
            return
        }
        _ = try FileSystem.renameNoReplace(staging.path, to: target)
    }

    /// Removes an image's files; its layers are removed separately once unused.
    public func deleteImage(_ id: Digest) throws {
        let trash = try makeStaging("removed-image")
        defer { trash.discard() }
        try FileSystem.rename(layout.image(id), to: "\(trash.path)/image")
    }

    // MARK: layers

    public func layerExists(_ diffID: Digest) -> Bool {
        FileSystem.exists(layout.layerRecord(diffID))
    }

    public func layerRecord(_ diffID: Digest) throws -> LayerRecord? {
        try JSONFiles.read(LayerRecord.self, from: layout.layerRecord(diffID))
    }

    /// Moves a finished layer (a directory holding root/ and layer.json) into
    /// place in one rename. false when the same layer is already there.
    public func commitLayer(from directory: String, diffID: Digest) throws -> Bool {
        try FileSystem.renameNoReplace(directory, to: layout.layer(diffID))
    }

    /// Layers no image, no container and no running build uses any more.
    public func unusedLayers(among candidates: [Digest]) throws -> [Digest] {
        var used = pinnedLayers()
        for record in try images() { used.formUnion(record.layers) }
        for record in try containers() { used.formUnion(record.layers) }
        return candidates.filter { !used.contains($0) }
    }

    /// Every layer in the store that no image and no container uses: what a
    /// forced removal of an image left for later.
    public func orphanLayers() throws -> [Digest] {
        let all = try FileSystem.entries(of: layout.layers).compactMap { Digest("sha256:\($0)") }
        return try unusedLayers(among: all)
    }

    /// Removes a layer: renamed out of sight first, so a crash halfway
    /// never leaves a partial layer under its name. Run inside the user namespace.
    public func deleteLayer(_ diffID: Digest) throws {
        let trash = try makeStaging("removed-layer")
        defer { trash.discard() }
        switch syscallResult({ Glibc.rename(layout.layer(diffID), "\(trash.path)/layer") }) {
        case .success, .failure(ENOENT): break
        case .failure(let error): throw SystemError("rename", path: layout.layer(diffID), errno: error)
        }
    }

    // MARK: containers

    public func containers() throws -> [ContainerRecord] {
        var records: [ContainerRecord] = []
        for id in try FileSystem.entries(of: layout.containers) {
            if let record = try? JSONFiles.read(ContainerRecord.self, from: layout.containerRecord(id)) { records.append(record) }
        }
        return records
    }

    public func container(_ id: String) throws -> ContainerRecord? {
        try JSONFiles.read(ContainerRecord.self, from: layout.containerRecord(id))
    }

    public func writeContainer(_ record: ContainerRecord) throws {
        try JSONFiles.write(record, to: layout.containerRecord(record.id), durable: false)
    }

    /// A container by name, full id or unique id prefix.
    public func resolveContainer(_ text: String) throws -> String {
        if let target = try? FileSystem.readLink(layout.name(text)), FileSystem.exists(layout.containerRecord(target)) {
            return target
        }
        let matches = try FileSystem.entries(of: layout.containers).filter { $0.hasPrefix(text) }
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 { throw BurrowError.invalidArgument("container id prefix \(text) is ambiguous: give more digits") }
        throw BurrowError.notFound("no such container: \(text)")
    }

    /// Claims a name for a container; a name in use is a conflict.
    public func reserveName(_ name: String, for id: String) throws {
        switch syscallResult({ symlink(id, layout.name(name)) }) {
        case .success: return
        case .failure(EEXIST):
            let holder = (try? FileSystem.readLink(layout.name(name))) ?? "?"
            if !FileSystem.exists(layout.containerRecord(holder)) {
                // The holder is gone (interrupted removal): take the name over.
                unlink(layout.name(name))
                return try reserveName(name, for: id)
            }
            throw BurrowError.conflict("the container name \"\(name)\" is already in use by container \(holder.prefix(12)): remove or rename that container to reuse the name")
        case .failure(let error):
            throw SystemError("symlink", path: layout.name(name), errno: error)
        }
    }

    public func releaseName(_ name: String, of id: String) {
        if (try? FileSystem.readLink(layout.name(name))) == id { unlink(layout.name(name)) }
    }
}
