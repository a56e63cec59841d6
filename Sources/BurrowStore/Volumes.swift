import BurrowOCI
import BurrowSystem
import Glibc

/// Volumes: `volumes/NAME/_data` and `volumes/NAME/volume.json`, as Docker
/// lays them out. A volume appears whole (made in tmp/ and renamed into
/// place) and disappears whole (renamed into tmp/ before its files are
/// deleted). Its files may belong to subordinate ids: deleting them needs
/// the user namespace, as for a container's.
///
/// Locking: a command that checks which containers use a volume and then
/// removes it holds the store's lock exclusively; one that mounts volumes
/// into a new container holds it shared from `createVolume` until the
/// container's record (with its mounts) is written.
extension Store {
    /// nil for a name no volume can have ("../images", "a/b"): it never
    /// reaches a path outside volumes/.
    public func volume(_ name: String) throws -> VolumeRecord? {
        guard (try? VolumeRecord.validateName(name)) != nil else { return nil }
        guard var record = try JSONFiles.read(VolumeRecord.self, from: layout.volumeRecord(name)) else { return nil }
        record.mountpoint = layout.volumeData(name)
        return record
    }

    /// Every volume whose record can be read, by name.
    public func volumes() throws -> [VolumeRecord] {
        var records: [VolumeRecord] = []
        for name in try FileSystem.entriesIfPresent(of: layout.volumes) ?? [] {
            if let record = try? volume(name) { records.append(record) }
        }
        return records.sorted { $0.name < $1.name }
    }

    /// Makes a volume, named or (name nil) with a random name, and returns
    /// it; a volume of that name that exists already is returned as it is,
    /// as Docker's `volume create` does. `created` says which happened. (A
    /// container's anonymous volume carries VolumeRecord.anonymousLabel.)
    public func createVolume(name: String?, labels: [String: String] = [:]) throws -> (record: VolumeRecord, created: Bool) {
        let name = name ?? Hex.random(bytes: 32)
        try VolumeRecord.validateName(name)
        if let existing = try volume(name) { return (existing, false) }
        let staging = try makeStaging("volume")
        defer { staging.discard() }
        // 0755, as Docker makes _data: what the container's users may do in
        // it is up to the owner and mode the image's directory gives it.
        try FileSystem.makeDirectory("\(staging.path)/_data", mode: 0o755)
        chmod("\(staging.path)/_data", 0o755)
        let record = VolumeRecord(name: name, created: Timestamp.now(), labels: labels, mountpoint: layout.volumeData(name))
        try JSONFiles.write(record, to: "\(staging.path)/volume.json", durable: true)
        if try !FileSystem.renameNoReplace(staging.path, to: layout.volume(name)) {
            // Another command made it a moment ago.
            guard let existing = try volume(name) else {
                throw BurrowError.engine("\(layout.volume(name)) is in the way of volume \(name) but holds no volume: remove it")
            }
            return (existing, false)
        }
        return (record, true)
    }

    /// The containers whose mounts name the volume, newest first.
    public func containersUsing(volume name: String) throws -> [ContainerRecord] {
        try containers().filter { $0.mounts.contains { $0.volume == name } }.sorted { $0.created > $1.created }
    }

    /// Moves a volume out of sight, under tmp/, in one rename, and returns
    /// where it went: the caller deletes it there (from inside the user
    /// namespace when its files belong to subordinate ids), and the next
    /// sweep of tmp/ finishes the job if that is interrupted. Call with
    /// the store locked exclusively, after checking no container uses it.
    public func retireVolume(_ name: String) throws -> String {
        let retired = "\(layout.staging)/removed-volume-\(Hex.random(bytes: 8))"
        try FileSystem.rename(layout.volume(name), to: retired)
        return retired
    }

    /// True when the volume's directory holds nothing; nil when it cannot
    /// be read here (its owner is a subordinate id, say).
    public func volumeIsEmpty(_ name: String) -> Bool? {
        guard let entries = try? FileSystem.entries(of: layout.volumeData(name)) else { return nil }
        return entries.isEmpty
    }

    /// The bytes a tree's files hold, each hard-linked file once, as
    /// Docker counts a volume's size; what cannot be read is not counted.
    public static func treeSize(_ path: String) -> Int64 {
        var seen = Set<String>()
        func walk(_ path: String) -> Int64 {
            var st = stat()
            guard lstat(path, &st) == 0 else { return 0 }
            if st.st_mode & S_IFMT != S_IFDIR {
                if st.st_nlink > 1 && !seen.insert("\(st.st_dev):\(st.st_ino)").inserted { return 0 }
                return Int64(st.st_size)
            }
            return ((try? FileSystem.entries(of: path)) ?? []).reduce(0) { $0 + walk("\(path)/\($1)") }
        }
        return walk(path)
    }
}
