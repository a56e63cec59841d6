/// A path on the host as the user wrote it. It is opened as written (a
/// symlink in it is the user's own); only when a copy must create it are
/// its directory and last name split off, lexically, as Docker does.
public struct HostPath: Equatable, Sendable, CustomStringConvertible {
    public let text: String
    public let assertsDirectory: Bool
    public let contentsOnly: Bool

    public init(_ text: String) {
        self.text = text
        let marks = PathMarks(text)
        assertsDirectory = marks.assertsDirectory
        contentsOnly = marks.contentsOnly
    }

    /// `a/b/../c/` is `a/c`; `` and `.` are `.`; `/..` is `/`.
    public var cleaned: String {
        let absolute = text.hasPrefix("/")
        var components: [Substring] = []
        for part in text.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = components.last, last != ".." {
                    components.removeLast()
                } else if !absolute {
                    components.append(part)
                }
                continue
            }
            components.append(part)
        }
        let joined = components.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// The directory that holds the path's last component.
    public var directory: String {
        let clean = cleaned
        guard let slash = clean.lastIndex(of: "/") else { return "." }
        return slash == clean.startIndex ? "/" : String(clean[..<slash])
    }

    /// The last component of the cleaned path (`.` or `..` when that is all there is).
    public var name: String {
        let clean = cleaned
        guard let slash = clean.lastIndex(of: "/") else { return clean }
        let name = String(clean[clean.index(after: slash)...])
        return name.isEmpty ? "/" : name
    }

    /// A symlink's text read at this path, applied as Docker applies it to
    /// a destination: relative to the path's directory.
    public func following(link target: String) -> HostPath {
        HostPath(target.hasPrefix("/") ? target : directory + "/" + target)
    }

    public var description: String { text }
}
