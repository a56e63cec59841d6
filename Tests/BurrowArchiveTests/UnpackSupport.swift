import BurrowArchive
import BurrowSystem
import BurrowTestSupport
import Foundation
import Glibc

/// Unpacks a tar made by a test into a fresh directory inside a scratch
/// "outside" directory, so a test can check nothing escaped.
struct Unpacked {
    let scratch: String
    let root: String
    let statistics: LayerUnpacker.Statistics
    let digests: LayerStream.Digests

    /// Root can give any owner; anyone else unpacks as the single-id mode does.
    static var policy: OwnershipPolicy {
        getuid() == 0 ? .currentNamespace() : OwnershipPolicy(uids: [.init(first: 0, count: 1)], gids: [.init(first: 0, count: 1)])
    }

    static func unpack(_ archive: [UInt8], whiteouts: WhiteoutFormat = .overlay, policy: OwnershipPolicy = Unpacked.policy) throws -> Unpacked {
        let scratch = Fixtures.temporaryDirectory("burrow-unpack")
        let root = scratch + "/layer/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let file = scratch + "/blob"
        FileManager.default.createFile(atPath: file, contents: Data(archive))
        let fd = open(file, O_RDONLY)
        defer { close(fd) }
        do {
            let stream = try LayerStream(source: .range(fd: fd, offset: 0, length: nil), displayName: "layer test")
            let unpacker = try LayerUnpacker(root: root, whiteouts: whiteouts, ownership: policy)
            let statistics = try unpacker.unpack(stream)
            return Unpacked(scratch: scratch, root: root, statistics: statistics, digests: try stream.finish())
        } catch {
            try? FileSystem.removeTree(scratch)
            throw error
        }
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    func exists(_ relative: String) -> Bool {
        var st = stat()
        return lstat(path(relative), &st) == 0
    }

    func status(_ relative: String) -> stat? {
        var st = stat()
        return lstat(path(relative), &st) == 0 ? st : nil
    }

    /// Everything under the scratch directory, relative to it: what a
    /// hostile layer might have written beside the layer.
    func scratchListing() -> [String] {
        (FileManager.default.subpaths(atPath: scratch) ?? []).sorted()
    }

    func cleanUp() {
        try? FileSystem.removeTree(scratch)
    }
}
