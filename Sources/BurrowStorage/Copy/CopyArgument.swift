/// One side of `burrow cp`: a path in a container, a path on the host, or
/// `-` for a tar archive on standard input or output.
public enum CopyArgument: Equatable, Sendable {
    case container(name: String, path: String)
    case host(String)
    case stream

    /// Split as Docker splits it: `NAME:PATH` names a container, unless the
    /// text is an absolute path or starts with `.`, which is how a host
    /// file with a colon in its name is written (`./a:b`, `/tmp/a:b`).
    public init(parsing text: String) {
        if text == "-" {
            self = .stream
            return
        }
        guard !text.hasPrefix("/"), let colon = text.firstIndex(of: ":") else {
            self = .host(text)
            return
        }
        let name = String(text[..<colon])
        if name.isEmpty || name.hasPrefix(".") {
            self = .host(text)
            return
        }
        self = .container(name: name, path: String(text[text.index(after: colon)...]))
    }
}
