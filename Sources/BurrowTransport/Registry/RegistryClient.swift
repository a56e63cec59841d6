import BurrowHTTP
import BurrowOCI
import BurrowSystem
import Synchronization

/// One repository on one registry, spoken to over the OCI distribution API
/// (apple/containerization's RegistryClient splits the same way: +Fetch,
/// +Token). Anonymous access first; a 401 is answered with the challenge's
/// Bearer token flow or Basic credentials, from the user's auth.json.
public final class RegistryClient: Sendable {
    public let domain: String
    public let repository: String
    public let base: HTTPURL
    let http: HTTPClient
    let credential: CredentialStore.Credential?
    let actions: String
    /// The Authorization header that worked last, shared by parallel downloads.
    private let authorization = Mutex<String?>(nil)

    init(domain: String, repository: String, base: HTTPURL, http: HTTPClient, credential: CredentialStore.Credential?, actions: String) {
        self.domain = domain
        self.repository = repository
        self.base = base
        self.http = http
        self.credential = credential
        self.actions = actions
    }

    /// Finds how `domain` answers (https, or plain http where allowed and
    /// the registry speaks no TLS) and authenticates for `actions` ("pull" or "pull,push").
    public static func connect(domain: String, repository: String, settings: RegistrySettings, actions: String = "pull",
                               credential: CredentialStore.Credential? = nil) throws -> RegistryClient {
        let host = RegistrySettings.apiHost(domain)
        let http = HTTPClient(trust: settings.trust)
        guard let secure = HTTPURL("https://\(host)/v2/") else {
            throw BurrowError.invalidArgument("\(domain) is not a registry address: give host[:port]")
        }
        var base = secure
        var ping: HTTPResponse
        do {
            ping = try http.perform(HTTPRequest("GET", secure), limit: 1 << 20)
        } catch let error as HTTPError where settings.allowsPlainHTTP(domain) && (error.kind == .notTLS || error.kind == .connect && secure.port == 443) {
            base = HTTPURL(secure: false, host: secure.host, port: secure.port == 443 ? 80 : secure.port, target: "/v2/")
            do {
                ping = try http.perform(HTTPRequest("GET", base), limit: 1 << 20)
            } catch {
                throw BurrowError.notFound("cannot reach the registry \(domain): \(error); check the name and that it runs")
            }
        } catch let error as HTTPError {
            var hint = "check the name and that it runs"
            if error.kind == .notTLS { hint = "it speaks plain HTTP: add \"\(domain)\" to \"insecure\" in ~/.config/burrow/registries.json if you trust the network" }
            // The certificate error says where the CA certificate goes.
            if error.kind == .certificate { throw BurrowError.permissionDenied("cannot reach the registry \(domain): \(error.message)") }
            throw BurrowError.notFound("cannot reach the registry \(domain): \(error.message); \(hint)")
        }
        let client = RegistryClient(domain: domain, repository: repository, base: HTTPURL(secure: base.secure, host: base.host, port: base.port),
                                    http: http, credential: credential ?? settings.credentials.credential(for: domain), actions: actions)
        if ping.status == 401 {
            try client.authenticate(ping)
        } else if !ping.isSuccess && ping.status != 404 {
            throw BurrowError.engine("the registry \(domain) answered \(ping.status) to /v2/: is it a registry?")
        }
        return client
    }

    var authorizationHeader: String? { authorization.withLock { $0 } }

    /// Answers a 401: fetch a token for the challenge's realm, or send Basic credentials.
    func authenticate(_ response: HTTPResponse) throws {
        let challenges = response.headers("www-authenticate").flatMap(AuthChallenge.parse)
        if let bearer = challenges.first(where: \.isBearer) {
            try fetchToken(bearer)
        } else if challenges.contains(where: \.isBasic) {
            guard let credential else { throw unauthorized() }
            authorization.withLock { $0 = "Basic " + Base64.encode(Array("\(credential.username):\(credential.password)".utf8)) }
        } else {
            throw BurrowError.permissionDenied("the registry \(domain) refused access and offers no authentication burrow knows (\(response.header("www-authenticate") ?? "no challenge"))")
        }
    }

    private func fetchToken(_ challenge: AuthChallenge) throws {
        guard let realm = challenge.parameters["realm"], var url = HTTPURL(realm) else {
            throw BurrowError.engine("the registry \(domain) asks for a token without a usable realm")
        }
        var query: [String] = []
        if let service = challenge.parameters["service"] { query.append("service=" + HTTPURL.escape(service)) }
        if !repository.isEmpty { query.append("scope=" + HTTPURL.escape("repository:\(repository):\(actions)")) }
        url.target += (url.target.contains("?") ? "&" : "?") + query.joined(separator: "&")
        var headers: [(String, String)] = []
        if let credential {
            headers.append(("Authorization", "Basic " + Base64.encode(Array("\(credential.username):\(credential.password)".utf8))))
        }
        let response: HTTPResponse
        do {
            response = try http.perform(HTTPRequest("GET", url, headers: headers), limit: 1 << 20)
        } catch {
            throw BurrowError.engine("cannot get a token for \(domain) from \(url.authority): \(error)")
        }
        if response.status == 401 || response.status == 403 {
            throw credential == nil ? unauthorized() : BurrowError.permissionDenied("the registry \(domain) refused the username or password of \(credential!.username): run 'burrow login \(domain)' again")
        }
        guard response.isSuccess, let json = try? JSONValue(parsing: response.body),
              let token = json["token"]?.string ?? json["access_token"]?.string, !token.isEmpty else {
            throw BurrowError.engine("the token service of \(domain) answered \(response.status) without a token")
        }
        authorization.withLock { $0 = "Bearer " + token }
    }

    /// `burrow login`: the credentials must open /v2/ (a token service that
    /// refuses them has already thrown in connect).
    public static func verify(domain: String, credential: CredentialStore.Credential, settings: RegistrySettings) throws {
        let response: HTTPResponse
        do {
            let client = try connect(domain: domain, repository: "", settings: settings, credential: credential)
            response = try client.send("GET", "/v2/")
        } catch let error as BurrowError where error.code == .permissionDenied {
            throw BurrowError.permissionDenied("login to \(domain) failed: the registry refused the username or password")
        }
        if response.status == 401 || response.status == 403 {
            throw BurrowError.permissionDenied("login to \(domain) failed: the registry refused the username or password")
        }
        guard response.isSuccess else {
            throw BurrowError.engine("login to \(domain) failed: the registry answered \(RegistryClient.errorText(response))")
        }
    }

    func unauthorized() -> BurrowError {
        BurrowError.permissionDenied("the registry \(domain) requires authentication for \(repository): run 'burrow login \(domain)'")
    }

    /// A request on the repository, `/v2/<repository>/<path>`, authenticated,
    /// retried once after a fresh challenge.
    public func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: HTTPRequest.Body = .none,
                     limit: Int = 8 << 20, onHead: ((HTTPResponse) throws -> Void)? = nil,
                     sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> HTTPResponse {
        let url: HTTPURL
        if path.hasPrefix("http://") || path.hasPrefix("https://") {
            // An upload location the registry handed out.
            guard let absolute = HTTPURL(path) else {
                throw BurrowError.engine("the registry \(domain) gave an address burrow cannot use: \(path.prefix(200))")
            }
            url = absolute
        } else if path.hasPrefix("/") {
            url = HTTPURL(secure: base.secure, host: base.host, port: base.port, target: path)
        } else {
            url = HTTPURL(secure: base.secure, host: base.host, port: base.port, target: "/v2/\(repository)/\(path)")
        }
        for attempt in 0..<2 {
            var all = headers
            if let authorization = authorizationHeader { all.append(("Authorization", authorization)) }
            let response: HTTPResponse
            do {
                response = try http.perform(HTTPRequest(method, url, headers: all, body: body), limit: limit, onHead: onHead, sink: sink)
            } catch let error as HTTPError {
                throw BurrowError.engine("\(method) \(url.target) on \(domain) failed: \(error.message)")
            }
            if response.status == 401 && attempt == 0 {
                try authenticate(response)
                continue
            }
            if response.status == 401 { throw unauthorized() }
            return response
        }
        throw unauthorized()
    }

    /// The registry's error text: `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}`.
    static func errorText(_ response: HTTPResponse) -> String {
        if let json = try? JSONValue(parsing: response.body), let first = json["errors"]?.array?.first {
            let code = first["code"]?.string ?? ""
            let message = first["message"]?.string ?? ""
            return "\(response.status) \(code)\(message.isEmpty ? "" : ": \(message)")"
        }
        return "\(response.status)"
    }
}
