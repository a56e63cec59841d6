/// A Docker image reference: `[domain/]path[:tag][@digest]`, normalized the
/// way Docker does (`python` is `docker.io/library/python:latest`).
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    public let domain: String
    public let path: String
    public let tag: String?
    public let digest: Digest?

    public static let defaultDomain = "docker.io"

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case invalidFormat(String)
        case uppercase(String)
        case tooLong(String)

        public var description: String {
            switch self {
            case .invalidFormat(let text): return "invalid reference format: \"\(text)\""
            case .uppercase(let text): return "invalid reference format: repository name (\(text)) must be lowercase"
            case .tooLong(let text): return "invalid reference format: repository name (\(text)) is longer than 255 characters"
            }
        }
    }

    public init(domain: String, path: String, tag: String?, digest: Digest?) {
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    public init(parsing text: String) throws(ParseError) {
        var rest = Substring(text)
        var digest: Digest? = nil
        if let at = rest.firstIndex(of: "@") {
            guard let parsed = Digest(String(rest[rest.index(after: at)...])) else { throw .invalidFormat(text) }
            digest = parsed
            rest = rest[..<at]
        }
        var tag: String? = nil
        if let colon = rest.lastIndex(of: ":"), !rest[rest.index(after: colon)...].contains("/") {
            let candidate = rest[rest.index(after: colon)...]
            guard ImageReference.isValidTag(candidate) else { throw .invalidFormat(text) }
            tag = String(candidate)
            rest = rest[..<colon]
        }
        guard !rest.isEmpty else { throw .invalidFormat(text) }

        var domain = ImageReference.defaultDomain
        var path = rest
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
                domain = String(first)
                path = rest[rest.index(after: slash)...]
            }
        }
        if domain == "index.docker.io" { domain = ImageReference.defaultDomain }
        guard ImageReference.isValidDomain(domain) else { throw .invalidFormat(text) }
        if path.lowercased() != path { throw .uppercase(String(rest)) }
        guard !path.isEmpty, path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy(ImageReference.isValidComponent) else {
            throw .invalidFormat(text)
        }
        if domain == ImageReference.defaultDomain && !path.contains("/") { path = "library/" + path }
        if domain.count + 1 + path.count > 255 { throw .tooLong(String(rest)) }
        if tag == nil && digest == nil { tag = "latest" }
        self.init(domain: domain, path: String(path), tag: tag, digest: digest)
    }

    /// `docker.io/library/busybox`
    public var repository: String { "\(domain)/\(path)" }

    /// The full form stored in the tag table: `docker.io/library/busybox:latest`.
    public var description: String {
        var text = repository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.description }
        return text
    }

    /// The repository as Docker prints it: `busybox`, `user/app`, `quay.io/x/y`.
    public var familiarRepository: String {
        guard domain == ImageReference.defaultDomain else { return repository }
        if path.hasPrefix("library/") && path.split(separator: "/").count == 2 { return String(path.dropFirst(8)) }
        return path
    }

    public var familiar: String {
        var text = familiarRepository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.description }
        return text
    }

    public func withTag(_ tag: String) -> ImageReference {
        ImageReference(domain: domain, path: path, tag: tag, digest: nil)
    }

    static func isValidTag(_ tag: Substring) -> Bool {
        guard let first = tag.utf8.first, tag.utf8.count <= 128 else { return false }
        func word(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
        return word(first) && tag.utf8.allSatisfy { word($0) || $0 == 46 || $0 == 45 }
    }

    /// [a-z0-9]+ joined by one of `.`, `_`, `__` or a run of `-`.
    static func isValidComponent(_ component: Substring) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 122) }
        guard alnum(first), alnum(last) else { return false }
        var i = 0
        while i < bytes.count {
            if alnum(bytes[i]) { i += 1; continue }
            var j = i
            while j < bytes.count && !alnum(bytes[j]) { j += 1 }
            let separator = bytes[i..<j]
            let ok = separator.elementsEqual([46]) || separator.elementsEqual([95]) || separator.elementsEqual([95, 95])
                || separator.allSatisfy { $0 == 45 }
            if !ok { return false }
            i = j
        }
        return true
    }

    static func isValidDomain(_ domain: String) -> Bool {
        var host = Substring(domain)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let after = host[host.index(after: close)...]
            if after.isEmpty { return true }
            guard after.hasPrefix(":"), let port = Int(after.dropFirst()), port > 0 && port < 65536 else { return false }
            return true
        }
        if let colon = host.lastIndex(of: ":") {
            guard let port = Int(host[host.index(after: colon)...]), port > 0 && port < 65536 else { return false }
            host = host[..<colon]
        }
        return !host.isEmpty && host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.utf8.first, let last = label.utf8.last else { return false }
            func alnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) }
            return alnum(first) && alnum(last) && label.utf8.allSatisfy { alnum($0) || $0 == 45 }
        }
    }
}
