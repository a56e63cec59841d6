import BurrowSystem

/// The uid and gid maps of a container's user namespace.
public struct UserNamespaceMapping: Sendable, Equatable {
    public struct Entry: Sendable, Equatable, CustomStringConvertible {
        public let inside: UInt32
        public let outside: UInt32
        public let count: UInt32

        public init(inside: UInt32, outside: UInt32, count: UInt32) {
            self.inside = inside
            self.outside = outside
            self.count = count
        }

        public var description: String { "\(inside) \(outside) \(count)" }
    }

    public let uids: [Entry]
    public let gids: [Entry]

    public init(uids: [Entry], gids: [Entry]) {
        self.uids = uids
        self.gids = gids
    }

    /// More than the user's own id is mapped: newuidmap/newgidmap must write
    /// the maps, and setgroups stays allowed.
    public var needsHelpers: Bool { uids.count > 1 || gids.count > 1 }

    /// The smallest number of ids Burrow wants beside the user's own, the
    /// size useradd gives: every uid an image commonly uses (nobody is 65534).
    public static let minimumSubordinateCount: UInt32 = 65536

    public enum Mode: Sendable, Equatable {
        /// root inside is the user; 1... are the subordinate ids.
        case rootless
        /// The user keeps their own uid and gid inside.
        case keepID
    }

    public struct TooSmall: Error, Sendable, Equatable {
        public let file: String
        public let available: UInt32
    }

    /// The maps for `mode`. Without subordinate ranges only the user's own id
    /// is mapped; with ranges of fewer than 65535 ids, `TooSmall`.
    public static func make(mode: Mode, user: HostUser, subUIDs: [SubordinateRange], subGIDs: [SubordinateRange]) throws(TooSmall) -> UserNamespaceMapping {
        let uids = try entries(mode: mode, id: user.uid, ranges: subUIDs, file: "/etc/subuid")
        let gids = try entries(mode: mode, id: user.gid, ranges: subGIDs, file: "/etc/subgid")
        return UserNamespaceMapping(uids: uids, gids: gids)
    }

    static func entries(mode: Mode, id: UInt32, ranges: [SubordinateRange], file: String) throws(TooSmall) -> [Entry] {
        let total = ranges.reduce(UInt64(0)) { $0 + UInt64($1.count) }
        if ranges.isEmpty {
            return [Entry(inside: mode == .keepID ? id : 0, outside: id, count: 1)]
        }
        guard total >= UInt64(minimumSubordinateCount) else { throw TooSmall(file: file, available: UInt32(total)) }
        // The standard layout: 0 is the user, 1... run through the ranges in order.
        var standard: [Entry] = [Entry(inside: 0, outside: id, count: 1)]
        var next: UInt32 = 1
        for range in ranges {
            let room = UInt32.max - next
            let count = min(range.count, room)
            if count == 0 { break }
            standard.append(Entry(inside: next, outside: range.start, count: count))
            next += count
        }
        guard mode == .keepID, id != 0 else { return standard }
        // keep-id swaps two ids of the standard layout: the user appears as
        // `id`, and whatever `id` was becomes 0, so nothing else moves.
        guard let swapped = outside(of: id, in: standard), id < next else {
            return [Entry(inside: id, outside: id, count: 1)]
        }
        var result: [Entry] = [Entry(inside: 0, outside: swapped, count: 1)]
        for entry in standard.dropFirst() {
            let low = entry.inside
            let high = entry.inside + entry.count
            guard id >= low && id < high else {
                result.append(entry)
                continue
            }
            if id > low { result.append(Entry(inside: low, outside: entry.outside, count: id - low)) }
            result.append(Entry(inside: id, outside: standard[0].outside, count: 1))
            if id + 1 < high { result.append(Entry(inside: id + 1, outside: entry.outside + (id + 1 - low), count: high - id - 1)) }
        }
        return result
    }

    static func outside(of inside: UInt32, in entries: [Entry]) -> UInt32? {
        for entry in entries where inside >= entry.inside && inside - entry.inside < entry.count {
            return entry.outside + (inside - entry.inside)
        }
        return nil
    }

    /// The host id behind an id inside, nil when it is not mapped.
    public func hostUID(_ inside: UInt32) -> UInt32? { UserNamespaceMapping.outside(of: inside, in: uids) }
    public func hostGID(_ inside: UInt32) -> UInt32? { UserNamespaceMapping.outside(of: inside, in: gids) }

    public func mapsUID(_ inside: UInt32) -> Bool { hostUID(inside) != nil }
    public func mapsGID(_ inside: UInt32) -> Bool { hostGID(inside) != nil }
}
