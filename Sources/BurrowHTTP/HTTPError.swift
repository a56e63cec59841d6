/// A request that got no usable answer: cannot connect, TLS refused, the
/// connection broke, the reply is not HTTP.
public struct HTTPError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case connect, tls, notTLS, certificate, protocolError, io, tooLarge }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
