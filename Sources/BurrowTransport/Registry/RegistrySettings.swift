import BurrowHTTP
import BurrowSystem
import FoundationEssentials

/// Where registries are and how to talk to them: the user's
/// `${XDG_CONFIG_HOME:-~/.config}/burrow/registries.json`
/// (`{"insecure": ["host:port"], "mirrors": {"docker.io": ["host:port"]}}`),
/// the certs.d folders, and the credentials files.
public struct RegistrySettings: Sendable {
    /// Registries that may be reached over plain HTTP when they do not speak TLS.
    public var insecure: Set<String>
    public var mirrors: [String: [String]]
    public var trust: TLSTrust
    public var credentials: CredentialStore

    public init(insecure: Set<String> = [], mirrors: [String: [String]] = [:], trust: TLSTrust, credentials: CredentialStore) {
        self.insecure = insecure
        self.mirrors = mirrors
        self.trust = trust
        self.credentials = credentials
    }

    struct File: Decodable {
        var insecure: [String]?
        var mirrors: [String: [String]]?
    }

    /// The settings for a user whose home and config folder are given.
    public static func load(home: String) throws -> RegistrySettings {
        let config = environment("XDG_CONFIG_HOME") ?? "\(home)/.config"
        let path = "\(config)/burrow/registries.json"
        var file = File()
        if FileSystem.exists(path) {
            do {
                file = try JSONDecoder().decode(File.self, from: Data(try FileSystem.readFile(path)))
            } catch {
                throw BurrowError.invalidArgument("\(path) is not valid (\(ArchiveLoader.describe(error))): it holds {\"insecure\": [\"host:port\"], \"mirrors\": {\"docker.io\": [\"host\"]}}")
            }
        }
        let trust = TLSTrust(directories: ["\(config)/burrow/certs.d", "\(config)/containers/certs.d", "\(home)/.docker/certs.d",
                                           "/etc/containers/certs.d", "/etc/docker/certs.d"])
        return RegistrySettings(insecure: Set(file.insecure ?? []), mirrors: file.mirrors ?? [:], trust: trust,
                                credentials: CredentialStore.standard(home: home, config: config))
    }

    /// Loopback registries may use plain HTTP, as Docker allows.
    public func allowsPlainHTTP(_ domain: String) -> Bool {
        if insecure.contains(domain) { return true }
        var host = domain
        if host.hasPrefix("[") , let close = host.firstIndex(of: "]") { host = String(host[host.index(after: host.startIndex)..<close]) }
        else if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        if insecure.contains(host) { return true }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Docker Hub's API lives on another name than its references use.
    public static func apiHost(_ domain: String) -> String {
        domain == "docker.io" ? "registry-1.docker.io" : domain
    }
}
