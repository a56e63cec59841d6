import Glibc

/// The proxy a request goes through, from HTTPS_PROXY / HTTP_PROXY and
/// NO_PROXY (either case), as curl and Go read them: loopback never goes
/// through a proxy; NO_PROXY lists hosts, domain suffixes (".example.com"
/// or "example.com") and "*".
public struct HTTPProxy: Equatable, Sendable {
    public var host: String
    public var port: Int
    /// "Basic ..." when the proxy URL carries user:password.
    public var authorization: String?

    public init(host: String, port: Int, authorization: String? = nil) {
        self.host = host
        self.port = port
        self.authorization = authorization
    }

    public static func forURL(_ url: HTTPURL, environment: (String) -> String? = HTTPProxy.environment) -> HTTPProxy? {
        let names = url.secure ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"]
        guard let text = names.lazy.compactMap(environment).first(where: { !$0.isEmpty }) else { return nil }
        let host = url.host.lowercased()
        if host == "localhost" || host.hasPrefix("127.") || host == "::1" { return nil }
        let exclusions = (environment("no_proxy") ?? environment("NO_PROXY") ?? "").split(separator: ",")
        for raw in exclusions {
            var entry = raw.trimmingSpaces().lowercased()
            if entry == "*" { return nil }
            if let colon = entry.lastIndex(of: ":"), !entry.contains("]"), Int(entry[entry.index(after: colon)...]) != nil {
                guard Int(entry[entry.index(after: colon)...]) == url.port else { continue }
                entry = String(entry[..<colon])
            }
            if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.isEmpty { continue }
            if host == entry || host.hasSuffix("." + entry) { return nil }
        }
        let full = text.contains("://") ? text : "http://" + text
        guard full.hasPrefix("http://"), let parsed = HTTPURL(full) else { return nil }
        var authorization: String? = nil
        let afterScheme = full.dropFirst(7)
        if let at = afterScheme.firstIndex(of: "@"), afterScheme[..<at].firstIndex(of: "/") == nil {
            authorization = "Basic " + Base64.encode(Array(percentDecoded(String(afterScheme[..<at])).utf8))
        }
        return HTTPProxy(host: parsed.host, port: parsed.port, authorization: authorization)
    }

    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    private static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == 37, let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
