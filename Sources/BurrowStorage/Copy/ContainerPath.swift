/// A path inside a container as the user wrote it. It always starts at the
/// container's `/` (`c:etc` is `/etc`, as in Docker), and is cleaned
/// without looking at any file: `.` goes, `..` removes the component before
/// it and stops at `/`. The file system is only consulted later, from a
/// descriptor of the container's root.
public struct ContainerPath: Equatable, Sendable, CustomStringConvertible {
    public let components: [String]
    /// Written with a trailing `/` or `/.`: it must be a directory, and a
    /// symlink there is followed.
    public let assertsDirectory: Bool
    /// Written as `DIR/.` (or `.`): the directory's contents, not the directory.
    public let contentsOnly: Bool

    public init(_ text: String) {
        var components: [String] = []
        for part in text.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !components.isEmpty { components.removeLast() }
                continue
            }
            components.append(String(part))
        }
        self.components = components
        let marks = PathMarks(text)
        assertsDirectory = marks.assertsDirectory
        contentsOnly = marks.contentsOnly
    }

    public init(components: [String]) {
        self.components = components
        assertsDirectory = false
        contentsOnly = false
    }

    public var isRoot: Bool { components.isEmpty }
    /// The last component; nil for `/`.
    public var name: String? { components.last }
    public var parent: ContainerPath { ContainerPath(components: Array(components.dropLast())) }

    /// A symlink's text read at this path, applied as Docker applies it to a
    /// destination: an absolute target starts again from `/`, a relative one
    /// from this path's directory; `..` stops at `/`.
    public func following(link target: String) -> ContainerPath {
        let base = target.hasPrefix("/") ? "" : parent.description
        return ContainerPath(base + "/" + target)
    }

    public var description: String { "/" + components.joined(separator: "/") }
}
