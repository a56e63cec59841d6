/// A path pattern as Go's filepath.Match reads it, with `**` for any number
/// of directories (as .dockerignore and COPY sources use them): `*` and `?`
/// never cross a `/`, `[a-z]` and `[^a]` are classes, `\` escapes.
public struct PathPattern: Sendable, Equatable {
    public let components: [String]

    public init(_ text: String) {
        components = PathPattern.clean(text).split(separator: "/").map(String.init)
    }

    /// Like Go's filepath.Clean on a relative path: no leading `/`, no `.`, `..` resolved.
    public static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    public var hasWildcards: Bool { components.contains { $0.contains(where: { "*?[\\".contains($0) }) } }

    /// Whether the whole of `path` (relative, cleaned) matches.
    public func matches(_ path: String) -> Bool {
        PathPattern.match(components[...], path.split(separator: "/").map(String.init)[...])
    }

    private static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            for skip in 0...path.count where match(pattern.dropFirst(), path.dropFirst(skip)) { return true }
            return false
        }
        guard let name = path.first, matchComponent(Array(first), Array(name)) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    /// One component against one name.
    static func matchComponent(_ pattern: [Character], _ name: [Character]) -> Bool {
        var p = 0, n = 0
        var star: (p: Int, n: Int)? = nil
        while n < name.count {
            if p < pattern.count {
                switch pattern[p] {
                case "*":
                    star = (p, n)
                    p += 1
                    continue
                case "?":
                    p += 1
                    n += 1
                    continue
                case "[":
                    if let (matched, end) = matchClass(pattern, p, name[n]) {
                        if matched {
                            p = end
                            n += 1
                            continue
                        }
                    }
                case "\\" where p + 1 < pattern.count:
                    if pattern[p + 1] == name[n] {
                        p += 2
                        n += 1
                        continue
                    }
                default:
                    if pattern[p] == name[n] {
                        p += 1
                        n += 1
                        continue
                    }
                }
            }
            guard let backtrack = star else { return false }
            p = backtrack.p + 1
            n = backtrack.n + 1
            star = (backtrack.p, backtrack.n + 1)
        }
        while p < pattern.count && pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// `[...]` at `start`: whether `c` is in it, and where the class ends.
    static func matchClass(_ pattern: [Character], _ start: Int, _ c: Character) -> (Bool, Int)? {
        var i = start + 1
        var negated = false
        if i < pattern.count && (pattern[i] == "^" || pattern[i] == "!") {
            negated = true
            i += 1
        }
        var matched = false
        var first = true
        while i < pattern.count && (pattern[i] != "]" || first) {
            first = false
            var low = pattern[i]
            if low == "\\" && i + 1 < pattern.count {
                i += 1
                low = pattern[i]
            }
            var high = low
            if i + 2 < pattern.count && pattern[i + 1] == "-" && pattern[i + 2] != "]" {
                high = pattern[i + 2]
                i += 2
            }
            if low <= c && c <= high { matched = true }
            i += 1
        }
        guard i < pattern.count else { return nil }
        return (matched != negated, i + 1)
    }
}
