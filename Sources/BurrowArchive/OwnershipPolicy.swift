import BurrowSystem

/// Which owners a layer's files may keep in the user namespace that unpacks
/// it. With a subuid range every owner inside it is kept and one outside is
/// an error; with a single mapped id every owner becomes that id, silently.
public struct OwnershipPolicy: Sendable, Equatable {
    public struct Range: Sendable, Equatable {
        public let first: UInt32
        public let count: UInt32
        public init(first: UInt32, count: UInt32) { self.first = first; self.count = count }
        public func contains(_ id: Int64) -> Bool { id >= Int64(first) && id < Int64(first) + Int64(count) }
    }

    public let uids: [Range]
    public let gids: [Range]

    public init(uids: [Range], gids: [Range]) {
        self.uids = uids
        self.gids = gids
    }

    /// Only root is mapped: nothing can be given another owner.
    public var isSingleID: Bool {
        uids.reduce(0) { $0 + Int64($1.count) } <= 1 || gids.reduce(0) { $0 + Int64($1.count) } <= 1
    }

    /// The owner to give a file; nil keeps the unpacking process's own (root).
    public func owner(uid: Int64, gid: Int64) -> (uid: UInt32, gid: UInt32)?? {
        if isSingleID { return .some(nil) }
        guard uids.contains(where: { $0.contains(uid) }), gids.contains(where: { $0.contains(gid) }) else { return nil }
        return .some((UInt32(uid), UInt32(gid)))
    }

    public var uidDescription: String { OwnershipPolicy.describe(uids) }

    static func describe(_ ranges: [Range]) -> String {
        ranges.map { $0.count == 1 ? "\($0.first)" : "\($0.first)-\(UInt64($0.first) + UInt64($0.count) - 1)" }.joined(separator: ", ")
    }

    /// The maps of the namespace this process runs in (/proc/self/uid_map).
    public static func currentNamespace() -> OwnershipPolicy {
        func read(_ path: String) -> [Range] {
            guard let text = try? FileSystem.readText(path) else { return [Range(first: 0, count: 1)] }
            return text.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count == 3, let first = UInt32(fields[0]), let count = UInt32(fields[2]) else { return nil }
                return Range(first: first, count: count)
            }
        }
        return OwnershipPolicy(uids: read("/proc/self/uid_map"), gids: read("/proc/self/gid_map"))
    }
}

/// How whiteouts and opaque directories are kept in an unpacked layer.
public enum WhiteoutFormat: String, Codable, Sendable {
    /// As overlayfs reads them with `userxattr`: a 0/0 character device, and
    /// `user.overlay.opaque=y` on a directory.
    case overlay
    /// As in the tar: `.wh.NAME` and `.wh..wh..opq` files.
    case aufs
}
