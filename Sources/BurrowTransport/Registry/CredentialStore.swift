import BurrowHTTP
import BurrowOCI
import BurrowSystem
import FoundationEssentials
import Glibc

/// Registry credentials in the auth.json shape Docker and podman share:
/// `{"auths": {"host:port": {"auth": base64("user:password")}}}`. Burrow
/// writes its own file (mode 0600) and reads podman's and Docker's after it.
public struct CredentialStore: Sendable {
    /// The file `login` writes.
    public let path: String
    /// Read in order after `path`.
    public let others: [String]

    public init(path: String, others: [String]) {
        self.path = path
        self.others = others
    }

    static func standard(home: String, config: String) -> CredentialStore {
        var others: [String] = []
        if let explicit = environment("REGISTRY_AUTH_FILE") { others.append(explicit) }
        if let runtime = environment("XDG_RUNTIME_DIR") { others.append("\(runtime)/containers/auth.json") }
        others.append("\(config)/containers/auth.json")
        others.append("\(environment("DOCKER_CONFIG") ?? "\(home)/.docker")/config.json")
        return CredentialStore(path: environment("BURROW_AUTH_FILE") ?? "\(config)/burrow/auth.json", others: others)
    }

    public struct Credential: Equatable, Sendable {
        public var username: String
        public var password: String
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    /// The keys a registry may be filed under: Docker files Docker Hub under its old v1 URL.
    static func keys(for domain: String) -> [String] {
        if domain == "docker.io" {
            return ["docker.io", "https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io", "https://registry-1.docker.io"]
        }
        return [domain, "https://\(domain)", "http://\(domain)", "https://\(domain)/v1/", "https://\(domain)/v2/"]
    }

    public func credential(for domain: String) -> Credential? {
        for file in [path] + others {
            guard let auths = try? CredentialStore.read(file) else { continue }
            for key in CredentialStore.keys(for: domain) {
                if let entry = auths[key], let credential = CredentialStore.decode(entry) { return credential }
            }
        }
        return nil
    }

    static func decode(_ entry: JSONValue) -> Credential? {
        guard let auth = entry["auth"]?.string, let bytes = Base64.decode(auth) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return nil }
        return Credential(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }

    static func read(_ file: String) throws -> [String: JSONValue] {
        guard let bytes = try FileSystem.readFileIfPresent(file) else { return [:] }
        var result: [String: JSONValue] = [:]
        for (key, value) in try JSONValue(parsing: bytes)["auths"]?.members ?? [] { result[key] = value }
        return result
    }

    /// Records or (with nil) forgets the credential, keeping every other
    /// key of the file as it was. The file is written whole and renamed, mode 0600.
    public func store(_ credential: Credential?, for domain: String) throws -> Bool {
        var top: [(String, JSONValue)] = []
        if let bytes = try FileSystem.readFileIfPresent(path) {
            guard let parsed = try? JSONValue(parsing: bytes), let members = parsed.members else {
                throw BurrowError.invalidArgument("\(path) is not a JSON object: fix or remove it")
            }
            top = members
        }
        var auths = top.first { $0.0 == "auths" }?.1.members ?? []
        let keys = CredentialStore.keys(for: domain)
        let before = auths.count
        auths.removeAll { keys.contains($0.0) }
        var changed = auths.count != before
        if let credential {
            auths.append((domain, .object([("auth", .string(Base64.encode(Array("\(credential.username):\(credential.password)".utf8))))])))
            changed = true
        }
        guard changed else { return false }
        top.removeAll { $0.0 == "auths" }
        top.insert(("auths", .object(auths)), at: 0)
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty { try FileSystem.makeDirectories(directory, mode: 0o700) }
        try FileSystem.writeAtomically(path, Array(JSONValue.object(top).pretty().utf8) + [10], mode: 0o600, durable: true)
        return true
    }
}
