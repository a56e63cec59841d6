import BurrowArchive

/// The owners a copy deals with. This process works inside a user
/// namespace, where it sees the container's files with the ids of that
/// namespace. Usually those are the ids the container sees too; a stopped
/// keep-id container is read from a standard namespace, where its root and
/// the user trade places (as LayerShifter made its layers).
public struct CopyIdentities: Sendable {
    /// The ids this process's namespace maps (/proc/self/uid_map, gid_map).
    public let mapped: OwnershipPolicy
    /// The user running burrow, as this process sees them.
    public let caller: (uid: UInt32, gid: UInt32)
    /// keep-id swaps these with 0, in both directions; nil changes nothing.
    public let swapped: (uid: UInt32, gid: UInt32)?

    public init(mapped: OwnershipPolicy, caller: (uid: UInt32, gid: UInt32), swapped: (uid: UInt32, gid: UInt32)? = nil) {
        self.mapped = mapped
        self.caller = caller
        self.swapped = swapped
    }

    /// Ids as the container sees them, from ids as this process sees them.
    public func toContainer(uid: UInt32, gid: UInt32) -> (uid: UInt32, gid: UInt32) { swap(uid, gid) }

    /// Ids as this process sees them, from ids as the container sees them.
    public func toProcess(uid: UInt32, gid: UInt32) -> (uid: UInt32, gid: UInt32) { swap(uid, gid) }

    private func swap(_ uid: UInt32, _ gid: UInt32) -> (uid: UInt32, gid: UInt32) {
        guard let swapped else { return (uid, gid) }
        return (uid == 0 ? swapped.uid : uid == swapped.uid ? 0 : uid, gid == 0 ? swapped.gid : gid == swapped.gid ? 0 : gid)
    }

    /// The container's root (0:0 inside it), as this process sees it; the one
    /// mapped id when the namespace maps a single id that is not 0.
    public var containerRoot: (uid: UInt32, gid: UInt32) {
        let root = toProcess(uid: 0, gid: 0)
        if isMapped(uid: root.uid, gid: root.gid) { return root }
        return (mapped.uids.first?.first ?? 0, mapped.gids.first?.first ?? 0)
    }

    public func isMapped(uid: UInt32, gid: UInt32) -> Bool {
        mapped.uids.contains { $0.contains(Int64(uid)) } && mapped.gids.contains { $0.contains(Int64(gid)) }
    }

    /// The inside id that `outside` has in a map as /proc/PID/uid_map shows it.
    public static func inside(of outside: UInt32, map text: String) -> UInt32? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 3, let first = UInt32(fields[0]), let start = UInt32(fields[1]), let count = UInt32(fields[2]) else { continue }
            if outside >= start && UInt64(outside) < UInt64(start) + UInt64(count) { return first + (outside - start) }
        }
        return nil
    }
}
