import BurrowHTTP
import Testing

@Suite struct AuthChallengeTests {
    @Test func dockerHubBearer() {
        let parsed = AuthChallenge.parse(#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#)
        #expect(parsed == [AuthChallenge(scheme: "Bearer", parameters: [
            "realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/busybox:pull"])])
        #expect(parsed[0].isBearer)
    }

    @Test func basicWithSpacesAndUnquotedValues() {
        #expect(AuthChallenge.parse(#"Basic realm="Registry Realm""#) == [AuthChallenge(scheme: "Basic", parameters: ["realm": "Registry Realm"])])
        #expect(AuthChallenge.parse("bearer  Realm=https://a/t , service=s") ==
                [AuthChallenge(scheme: "bearer", parameters: ["realm": "https://a/t", "service": "s"])])
    }

    @Test func severalChallengesAndEscapes() {
        let parsed = AuthChallenge.parse(#"Basic realm="a \"b\"", Bearer realm="https://t",scope="repository:x:pull,push""#)
        #expect(parsed.count == 2)
        #expect(parsed[0] == AuthChallenge(scheme: "Basic", parameters: ["realm": #"a "b""#]))
        #expect(parsed[1].parameters["scope"] == "repository:x:pull,push")
    }

    @Test func garbageGivesNothing() {
        #expect(AuthChallenge.parse("").isEmpty)
        #expect(AuthChallenge.parse("=,,=").isEmpty)
    }

    @Test func base64RoundTrip() {
        for text in ["", "a", "ab", "abc", "user:pässword"] {
            let encoded = Base64.encode(Array(text.utf8))
            #expect(Base64.decode(encoded).map { String(decoding: $0, as: UTF8.self) } == text)
        }
        #expect(Base64.encode(Array("user:pass".utf8)) == "dXNlcjpwYXNz")
    }

    @Test func urls() {
        let url = HTTPURL("https://[::1]:5000/v2/?x=1")
        #expect(url?.host == "::1" && url?.port == 5000 && url?.target == "/v2/?x=1" && url?.authority == "[::1]:5000")
        #expect(HTTPURL("http://127.0.0.1:5000")?.target == "/")
        #expect(HTTPURL("https://auth.docker.io/token")?.port == 443)
        #expect(HTTPURL("ftp://x") == nil)
        #expect(HTTPURL("https://a/b")?.resolving("/c?d")?.description == "https://a/c?d")
    }
}

@Suite struct HTTPProxyTests {
    static func environment(_ values: [String: String]) -> (String) -> String? { { values[$0] } }

    @Test func chosenBySchemeAndSkippedForLoopbackAndNoProxy() {
        let env = HTTPProxyTests.environment(["HTTPS_PROXY": "http://user:p%40ss@proxy.lan:3128", "http_proxy": "proxy.lan:8080",
                                              "NO_PROXY": "internal.lan, .corp.example,registry.lan:5000"])
        let https = HTTPProxy.forURL(HTTPURL("https://registry-1.docker.io/v2/")!, environment: env)
        #expect(https == HTTPProxy(host: "proxy.lan", port: 3128, authorization: "Basic " + Base64.encode(Array("user:p@ss".utf8))))
        #expect(HTTPProxy.forURL(HTTPURL("http://mirror.example/v2/")!, environment: env)?.port == 8080)
        for url in ["https://127.0.0.1:5000/v2/", "https://localhost/v2/", "https://[::1]:5000/v2/", "https://internal.lan/v2/",
                    "https://a.internal.lan/v2/", "https://x.corp.example/v2/", "https://registry.lan:5000/v2/"] {
            #expect(HTTPProxy.forURL(HTTPURL(url)!, environment: env) == nil, "\(url)")
        }
        #expect(HTTPProxy.forURL(HTTPURL("https://registry.lan:5001/v2/")!, environment: env) != nil)
        #expect(HTTPProxy.forURL(HTTPURL("https://quay.io/v2/")!, environment: HTTPProxyTests.environment(["HTTPS_PROXY": "http://p:1", "no_proxy": "*"])) == nil)
        #expect(HTTPProxy.forURL(HTTPURL("https://quay.io/v2/")!, environment: HTTPProxyTests.environment([:])) == nil)
    }
}
