/// A content digest, "algorithm:encoded". Only sha256 is produced; sha512 is
/// accepted where a document names it.
public struct Digest: Hashable, Codable, Sendable, CustomStringConvertible, Comparable {
    public let algorithm: String
    public let encoded: String

    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let algorithm = String(text[..<colon])
        let encoded = String(text[text.index(after: colon)...])
        let expectedLength: Int
        switch algorithm {
        case "sha256": expectedLength = 64
        case "sha512": expectedLength = 128
        default: return nil
        }
        guard encoded.utf8.count == expectedLength,
              encoded.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { return nil }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    public var description: String { "\(algorithm):\(encoded)" }

    /// The first twelve hex digits, as `docker images` shows an id.
    public var short: String { String(encoded.prefix(12)) }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let digest = Digest(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid digest \(text)"))
        }
        self = digest
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }
}
