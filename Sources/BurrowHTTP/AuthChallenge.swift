/// One challenge of a WWW-Authenticate header (RFC 7235):
/// `Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"`.
public struct AuthChallenge: Equatable, Sendable {
    public var scheme: String
    public var parameters: [String: String]

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    public var isBearer: Bool { scheme.lowercased() == "bearer" }
    public var isBasic: Bool { scheme.lowercased() == "basic" }

    /// Every challenge in the header value, in order; parameter names are lowercased.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var challenges: [AuthChallenge] = []
        let bytes = Array(header.utf8)
        var i = 0
        func skipSpaces() { while i < bytes.count && (bytes[i] == 32 || bytes[i] == 9) { i += 1 } }
        func token() -> String {
            let start = i
            while i < bytes.count, bytes[i] != 32, bytes[i] != 9, bytes[i] != 44, bytes[i] != 61 { i += 1 }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }
        while i < bytes.count {
            skipSpaces()
            while i < bytes.count && bytes[i] == 44 { i += 1; skipSpaces() }
            let name = token()
            if name.isEmpty { if i < bytes.count { i += 1 }; continue }
            skipSpaces()
            if i < bytes.count && bytes[i] == 61 {
                // A parameter of the challenge being read.
                i += 1
                skipSpaces()
                var value = ""
                if i < bytes.count && bytes[i] == 34 {
                    i += 1
                    var raw: [UInt8] = []
                    while i < bytes.count && bytes[i] != 34 {
                        if bytes[i] == 92 && i + 1 < bytes.count { i += 1 }
                        raw.append(bytes[i])
                        i += 1
                    }
                    i += 1
                    value = String(decoding: raw, as: UTF8.self)
                } else {
                    value = token()
                }
                if challenges.isEmpty { challenges.append(AuthChallenge(scheme: "", parameters: [:])) }
                challenges[challenges.count - 1].parameters[name.lowercased()] = value
            } else {
                challenges.append(AuthChallenge(scheme: name, parameters: [:]))
                // "Bearer realm=..." continues with parameters after a space.
            }
        }
        return challenges.filter { !$0.scheme.isEmpty }
    }
}
