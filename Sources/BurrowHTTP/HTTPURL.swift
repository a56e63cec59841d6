/// An http or https URL split the way a request needs it. Only what
/// registries hand out: scheme, host (IPv6 in brackets), port, path and query.
public struct HTTPURL: Hashable, Sendable, CustomStringConvertible {
    public var secure: Bool
    public var host: String
    public var port: Int
    /// Path and query, starting with "/".
    public var target: String

    public init(secure: Bool, host: String, port: Int? = nil, target: String = "/") {
        self.secure = secure
        self.host = host
        self.port = port ?? (secure ? 443 : 80)
        self.target = target.hasPrefix("/") ? target : "/" + target
    }

    public init?(_ text: String) {
        let secure: Bool
        var rest: Substring
        if text.hasPrefix("https://") { secure = true; rest = text.dropFirst(8) }
        else if text.hasPrefix("http://") { secure = false; rest = text.dropFirst(7) }
        else { return nil }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host: Substring
        var port: Int? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { return nil }; port = p }
            else if !after.isEmpty { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = authority
        }
        guard !host.isEmpty, port.map({ $0 > 0 && $0 < 65536 }) ?? true else { return nil }
        var target = String(rest)
        if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
        self.init(secure: secure, host: String(host), port: port, target: target)
    }

    /// host, host:port when not the default, [v6]:port.
    public var authority: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }

    public var description: String { "\(secure ? "https" : "http")://\(authority)\(target)" }

    /// A Location header: absolute, or a path on this server.
    public func resolving(_ location: String) -> HTTPURL? {
        if let absolute = HTTPURL(location) { return absolute }
        if location.hasPrefix("//") { return HTTPURL((secure ? "https:" : "http:") + location) }
        guard location.hasPrefix("/") else { return nil }
        var copy = self
        copy.target = location
        return copy
    }

    /// Percent-encodes a query value.
    public static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%\(hex[Int(byte >> 4)])\(hex[Int(byte & 15)])"
            }
        }
        return out
    }
}
