import BurrowArchive
import BurrowStorage
import BurrowSystem
import CBurrowSys
import Glibc

/// An overlay upper directory read as a layer: a whiteout (a 0/0 character
/// device, or a file marked `user.overlay.whiteout`) becomes `.wh.NAME`, an
/// opaque directory (`user.overlay.opaque=y`) gets `.wh..wh..opq`, as the
/// OCI layer format writes them. overlayfs's own xattrs never reach the tar:
/// TreeReader reads only security.capability.
final class UpperLayerSource: CopySource {
    private let reader: TreeReader
    private let upper: String
    private var pending: [CopyEntry] = []

    init(upper: String) throws {
        self.upper = upper
        let top = try syscall("open", upper) { bsys_openat(AT_FDCWD, upper, BSYS_O_PATH | O_DIRECTORY | O_NOFOLLOW, 0) }
        reader = TreeReader(top: top, sameMount: false) { $0.isRoot ? upper : "\(upper)/\($0)" }
    }

    var currentFile: Int32? { reader.currentFile }

    func readData(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws { try reader.readData(body) }

    func next() throws -> CopyEntry? {
        if !pending.isEmpty { return pending.removeFirst() }
        guard var entry = try reader.next() else { return nil }
        let full = entry.path.isRoot ? upper : "\(upper)/\(entry.path)"
        let isWhiteout = (entry.kind == .characterDevice && entry.deviceMajor == 0 && entry.deviceMinor == 0)
            || (entry.kind == .regular && entry.size == 0 && UpperLayerSource.hasXattr(full, "user.overlay.whiteout"))
        if isWhiteout {
            entry = CopyEntry(path: entry.path.parent.appending(Array(".wh.".utf8) + entry.path.name), kind: .regular, mode: 0o600,
                              uid: 0, gid: 0, modified: entry.modified)
            return entry
        }
        if entry.kind == .directory, !entry.path.isRoot, UpperLayerSource.isOpaque(full) {
            pending.append(CopyEntry(path: entry.path.appending(Array(".wh..wh..opq".utf8)), kind: .regular, mode: 0o600,
                                     uid: 0, gid: 0, modified: entry.modified))
        }
        return entry
    }

    static func isOpaque(_ path: String) -> Bool {
        var value: UInt8 = 0
        return bsys_lgetxattr(path, "user.overlay.opaque", &value, 1) == 1 && value == UInt8(ascii: "y")
    }

    static func hasXattr(_ path: String, _ name: String) -> Bool {
        var value: UInt8 = 0
        return bsys_lgetxattr(path, name, &value, 1) >= 0
    }
}
