import BurrowArchive
import BurrowOCI
import BurrowStore
import BurrowSystem

/// Fills a new volume with the image's files at the path it is mounted on,
/// as Docker does ("copy-up"): only while the volume is empty, so a volume
/// that holds data, even data the container deleted down to nothing but
/// one file, is never overwritten.
public enum VolumeFiller {
    /// Copies what the image holds at `path` into the volume's `_data`
    /// when that is empty; the directory itself takes the owner and mode of
    /// the image's. false when nothing was copied (the volume holds
    /// something, or the image has no directory there). Runs inside the
    /// user namespace (`__storage copy-up`): the copies keep owners that
    /// are subordinate ids.
    public static func fill(store: Store, volume: String, path: String, layers: [Digest]) throws -> Bool {
        guard try store.volume(volume) != nil else { throw BurrowError.notFound("no such volume: \(volume)") }
        // Two containers starting at once with one new volume copy once.
        let lock = try FileLock(path: "\(store.layout.volume(volume))/copy-up.lock", mode: .exclusive)
        defer { _ = lock }
        let data = store.layout.volumeData(volume)
        guard try FileSystem.entries(of: data).isEmpty else { return false }
        let reader = LayeredFileReader(layers: try layers.map { diffID in
            guard let record = try store.layerRecord(diffID) else {
                throw BurrowError.engine("layer \(diffID) is missing from the store: remove the image and load it again")
            }
            return LayeredFileReader.Layer(tree: store.layout.layerTree(diffID), whiteouts: WhiteoutFormat(rawValue: record.whiteouts) ?? .overlay)
        })
        do {
            return try reader.copyDirectory(path, to: data)
        } catch {
            // Half a copy would pass for the volume's own data next time: empty it again.
            for name in (try? FileSystem.entries(of: data)) ?? [] { try? FileSystem.removeTree("\(data)/\(name)") }
            throw BurrowError.engine("could not copy the image's files at \(path) into volume \(volume): \(error)")
        }
    }
}
