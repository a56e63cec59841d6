/// The error a user reads: one line naming the thing and what to do.
public struct BurrowError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        case notFound, invalidArgument, exists, conflict, unsupported, permissionDenied, engine
        /// The container's program exists but cannot be run (exit 126).
        case cannotExecute
        /// The container's program does not exist (exit 127).
        case commandNotFound
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static func notFound(_ message: String) -> BurrowError { BurrowError(.notFound, message) }
    public static func invalidArgument(_ message: String) -> BurrowError { BurrowError(.invalidArgument, message) }
    public static func conflict(_ message: String) -> BurrowError { BurrowError(.conflict, message) }
    public static func unsupported(_ message: String) -> BurrowError { BurrowError(.unsupported, message) }
    public static func engine(_ message: String) -> BurrowError { BurrowError(.engine, message) }
    public static func permissionDenied(_ message: String) -> BurrowError { BurrowError(.permissionDenied, message) }
}
