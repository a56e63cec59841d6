/// The two marks a path's spelling carries, whatever its kind.
public struct PathMarks: Equatable, Sendable {
    public let assertsDirectory: Bool
    public let contentsOnly: Bool

    public init(_ text: String) {
        var trimmed = Substring(text)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let last = trimmed.split(separator: "/").last.map(String.init) ?? ""
        contentsOnly = last == "."
        assertsDirectory = text.hasSuffix("/") || contentsOnly
    }
}
