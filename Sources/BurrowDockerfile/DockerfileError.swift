/// A mistake in a Dockerfile, named by its file and line as Docker does:
/// `Dockerfile:7: unknown instruction COPPY`.
public struct DockerfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let message: String
    /// The file as the user named it ("Dockerfile"); set by whoever read it.
    public var file: String

    public init(line: Int, _ message: String, file: String = "Dockerfile") {
        self.line = line
        self.message = message
        self.file = file
    }

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}
