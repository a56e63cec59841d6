import BurrowSystem

/// A user's ranges from /etc/subuid or /etc/subgid.
public struct SubordinateRange: Sendable, Equatable {
    public let start: UInt32
    public let count: UInt32

    public init(start: UInt32, count: UInt32) {
        self.start = start
        self.count = count
    }
}

public enum SubordinateIDs {
    /// The ranges listed for the user, by name or by uid, in file order.
    public static func parse(_ text: String, user: HostUser) -> [SubordinateRange] {
        var ranges: [SubordinateRange] = []
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == user.name || fields[0] == String(user.uid),
                  let start = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0 else { continue }
            ranges.append(SubordinateRange(start: start, count: count))
        }
        return ranges
    }

    public static func read(_ path: String, user: HostUser) -> [SubordinateRange] {
        guard let text = try? FileSystem.readText(path) else { return [] }
        return parse(text, user: user)
    }

    /// Where a new range of `count` ids could start without overlapping any
    /// listed range: the suggestion an error gives.
    public static func freeStart(in text: String, count: UInt32) -> UInt32 {
        var end: UInt64 = 100_000
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, let start = UInt64(fields[1]), let size = UInt64(fields[2]) else { continue }
            end = max(end, start + size)
        }
        return UInt32(min(end, UInt64(UInt32.max) - UInt64(count)))
    }
}
