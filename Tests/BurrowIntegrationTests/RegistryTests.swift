import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// A distribution registry (Debian's docker-registry) the test starts on
/// 127.0.0.1 with a configuration it writes: optional htpasswd and TLS with
/// a certificate made here. Stopped with SIGKILL: the harness's threads
/// block signals their children inherit.
final class LoopbackRegistry {
    let directory: String
    let port: UInt16
    let tls: Bool
    let credentials: (String, String)?
    private let process: Process
    private var proxies: [Process] = []

    static let program = "/usr/bin/docker-registry"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: program) }

    init(tls: Bool = false, credentials: (String, String)? = nil) throws {
        directory = Fixtures.temporaryDirectory("burrow-registry")
        chmod(directory, 0o755)
        self.tls = tls
        self.credentials = credentials
        port = LoopbackRegistry.freePort()
        var config = """
        version: 0.1
        log:
          level: warn
        storage:
          filesystem:
            rootdirectory: \(directory)/data
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:\(port)
          secret: burrow-test

        """
        if tls {
            let made = try LoopbackRegistry.shell("""
                cd '\(directory)' && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
                  -addext subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:registry.test -keyout key.pem -out cert.pem 2>&1 && chmod 644 cert.pem
                """)
            precondition(made.code == 0, "openssl failed: \(made.out)")
            config += "  tls:\n    certificate: \(directory)/cert.pem\n    key: \(directory)/key.pem\n"
        }
        if let (user, password) = credentials {
            let made = try LoopbackRegistry.shell("htpasswd -Bbn '\(user)' '\(password)' > '\(directory)/htpasswd'")
            precondition(made.code == 0, "htpasswd failed: \(made.out)")
            config += "auth:\n  htpasswd:\n    realm: burrow-test\n    path: \(directory)/htpasswd\n"
        }
        try config.write(toFile: "\(directory)/config.yml", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: LoopbackRegistry.program)
        process.arguments = ["serve", "\(directory)/config.yml"]
        FileManager.default.createFile(atPath: "\(directory)/registry.log", contents: nil)
        let log = FileHandle(forWritingAtPath: "\(directory)/registry.log")
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if !HostSocket.isFree(port) { return }
            usleep(50_000)
        }
        stop()
        Issue.record("docker-registry did not listen on \(port): \((try? String(contentsOfFile: "\(directory)/registry.log", encoding: .utf8)) ?? "")")
    }

    deinit { stop() }

    func stop() {
        for proxy in proxies where proxy.isRunning {
            kill(proxy.processIdentifier, SIGKILL)
            proxy.waitUntilExit()
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func remove() {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The name burrow pulls: 127.0.0.1:PORT/REPOSITORY:TAG.
    func name(_ repository: String, _ tag: String = "latest") -> String { "127.0.0.1:\(port)/\(repository):\(tag)" }
    var base: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }

    /// Pushes an oci-archive with a little Python client (burrow push does
    /// not exist yet); prints the top manifest's digest.
    @discardableResult
    func push(_ archive: String, as repository: String, tag: String = "latest") throws -> String {
        let script = "\(directory)/push.py"
        if !FileManager.default.fileExists(atPath: script) { try LoopbackRegistry.pushScript.write(toFile: script, atomically: true, encoding: .utf8) }
        let auth = credentials.map { "\($0.0):\($0.1)" } ?? ""
        let ca = tls ? " '\(directory)/cert.pem'" : ""
        let pushed = try LoopbackRegistry.shell("python3 '\(script)' '\(base)' '\(repository)' '\(tag)' '\(archive)' '\(auth)'\(ca)")
        precondition(pushed.code == 0, "pushing \(archive) failed: \(pushed.out)")
        return pushed.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Puts a JSON document as a manifest (an index made by the test).
    func putManifest(_ json: String, mediaType: String, repository: String, reference: String) throws -> String {
        let file = "\(directory)/manifest-\(UUID().uuidString.prefix(6)).json"
        try json.write(toFile: file, atomically: true, encoding: .utf8)
        let put = try LoopbackRegistry.shell("curl -sS -f -X PUT -H 'Content-Type: \(mediaType)' --data-binary @'\(file)' '\(base)/v2/\(repository)/manifests/\(reference)' -D - -o /dev/null | tr -d '\\r' | sed -n 's/^Docker-Content-Digest: //Ip'")
        precondition(put.code == 0, "PUT manifest failed: \(put.out)")
        return put.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The file the registry keeps a blob in.
    func blobFile(_ digest: String) -> String {
        let hex = digest.replacingOccurrences(of: "sha256:", with: "")
        return "\(directory)/data/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }

    /// A proxy in front of the registry that breaks blob downloads: "slow"
    /// sends 64 KiB every 50 ms, "drop-once" closes each blob's first
    /// download halfway. Returns its port; stopped with the registry.
    func misbehavingProxy(_ mode: String) throws -> UInt16 {
        let script = "\(directory)/proxy.py"
        try LoopbackRegistry.proxyScript.write(toFile: script, atomically: true, encoding: .utf8)
        let proxyPort = LoopbackRegistry.freePort()
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        proxy.arguments = [script, String(proxyPort), String(port), mode]
        proxy.standardInput = FileHandle.nullDevice
        proxy.standardOutput = FileHandle.nullDevice
        proxy.standardError = FileHandle.nullDevice
        try proxy.run()
        proxies.append(proxy)
        for _ in 0..<100 {
            if !HostSocket.isFree(proxyPort) { break }
            usleep(50_000)
        }
        return proxyPort
    }

    /// A CONNECT proxy that takes every host to 127.0.0.1 (the port asked
    /// for) and writes each request line to `log`; returns its port.
    func connectProxy(log: String) throws -> UInt16 {
        let script = "\(directory)/connect.py"
        try LoopbackRegistry.connectScript.write(toFile: script, atomically: true, encoding: .utf8)
        let proxyPort = LoopbackRegistry.freePort()
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        proxy.arguments = [script, String(proxyPort), log]
        proxy.standardInput = FileHandle.nullDevice
        proxy.standardOutput = FileHandle.nullDevice
        proxy.standardError = FileHandle.nullDevice
        try proxy.run()
        proxies.append(proxy)
        for _ in 0..<100 {
            if !HostSocket.isFree(proxyPort) { break }
            usleep(50_000)
        }
        return proxyPort
    }

    static let connectScript = #"""
    import socket, sys, threading
    listen, log = int(sys.argv[1]), sys.argv[2]
    def pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d: break
                b.sendall(d)
        except OSError: pass
        finally:
            try: b.shutdown(socket.SHUT_WR)
            except OSError: pass
    def handle(c):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk: return
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        line = head.split(b"\r\n")[0].decode()
        with open(log, "a") as f: f.write(line + "\n")
        method, target = line.split(" ")[:2]
        if method != "CONNECT":
            c.sendall(b"HTTP/1.1 405 Only CONNECT\r\n\r\n"); c.close(); return
        upstream = socket.create_connection(("127.0.0.1", int(target.rsplit(":", 1)[1])))
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest: upstream.sendall(rest)
        threading.Thread(target=pipe, args=(upstream, c), daemon=True).start()
        pipe(c, upstream)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", listen))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()
    """#

    static let proxyScript = #"""
    import http.client, http.server, socketserver, sys, threading, time
    # proxy.py LISTEN_PORT UPSTREAM_PORT MODE   (MODE: slow | drop-once)
    listen, upstream, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    dropped = set()
    lock = threading.Lock()
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
        def do_HEAD(self): self.forward()
        def do_GET(self): self.forward()
        def forward(self):
            conn = http.client.HTTPConnection("127.0.0.1", upstream)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            conn.request(self.command, self.path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            blob = "/blobs/sha256:" in self.path and self.command == "GET" and response.status == 200
            self.send_response(response.status)
            for k, v in response.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length"): self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD": return
            if blob and mode == "drop-once":
                with lock:
                    first = self.path not in dropped
                    dropped.add(self.path)
                if first and len(body) > 1000:
                    self.wfile.write(body[: len(body) // 2]); self.wfile.flush()
                    self.connection.shutdown(2); return
            if blob and mode == "slow":
                for i in range(0, len(body), 65536):
                    self.wfile.write(body[i:i + 65536]); self.wfile.flush(); time.sleep(0.05)
                return
            self.wfile.write(body)
    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True
    Server(("127.0.0.1", listen), Handler).serve_forever()
    """#

    static func shell(_ script: String) throws -> (code: Int32, out: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func freePort() -> UInt16 {
        for _ in 0..<1000 {
            let port = UInt16.random(in: 20000...60000)
            if HostSocket.isFree(port) { return port }
        }
        fatalError("no free port")
    }

    static let pushScript = #"""
    import base64, json, ssl, sys, tarfile, urllib.error, urllib.request
    # push.py BASE REPOSITORY TAG ARCHIVE [USER:PASSWORD] [CAFILE]
    base, repo, tag, archive = sys.argv[1:5]
    auth = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else None
    ctx = ssl.create_default_context(cafile=sys.argv[6]) if len(sys.argv) > 6 else None
    def req(method, url, data=None, headers={}):
        r = urllib.request.Request(url if url.startswith("http") else base + url, data=data, method=method, headers=dict(headers))
        if auth: r.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
        return urllib.request.urlopen(r, context=ctx)
    t = tarfile.open(archive)
    blobs = {m.name.split("/")[-1]: m for m in t.getmembers() if m.name.startswith("blobs/sha256/") and m.isfile()}
    def read(h): return t.extractfile(blobs[h]).read()
    def push_blob(h):
        try:
            req("HEAD", f"/v2/{repo}/blobs/sha256:{h}"); return
        except urllib.error.HTTPError: pass
        loc = req("POST", f"/v2/{repo}/blobs/uploads/").headers["Location"]
        if not loc.startswith("http"): loc = base + loc
        req("PUT", loc + ("&" if "?" in loc else "?") + f"digest=sha256:{h}", read(h), {"Content-Type": "application/octet-stream"})
    def push_manifest(desc, ref):
        h = desc["digest"].split(":")[1]
        doc = json.loads(read(h))
        for child in doc.get("manifests", []): push_manifest(child, child["digest"])
        for b in [doc.get("config")] + doc.get("layers", []):
            if b: push_blob(b["digest"].split(":")[1])
        req("PUT", f"/v2/{repo}/manifests/{ref}", read(h), {"Content-Type": desc["mediaType"]})
    for desc in json.loads(t.extractfile("index.json").read())["manifests"]:
        push_manifest(desc, tag)
        print(desc["digest"])
    """#
}

extension Integration {
@Suite(.enabled(if: LoopbackRegistry.available, "docker-registry is not installed (scripts/common.sh TEST_PACKAGES)"))
struct RegistryTests {
    static let busyboxManifest = "sha256:a7bf6a0260dafc27340b032614c8084a0529069e84b376f85605fc99603f7492"

    /// A config folder of the user's own (credentials, certs.d) for one test.
    static func configHome(_ runner: Runner) throws -> String {
        let path = "\(runner.store)-config"
        #expect(try runner.sh("mkdir -p '\(path)/burrow'").code == 0)
        return path
    }

    static func nothingStored(_ runner: Runner) throws -> Bool {
        try runner.sh("cd '\(runner.store)' && test -z \"$(find layers images tmp -mindepth 1 -maxdepth 1 2>/dev/null)\"").code == 0
    }

    @Test(arguments: TestUser.all)
    func pullTheFixturesBackFromALoopbackRegistry(user: TestUser) throws {
        let registry = try LoopbackRegistry()
        defer { registry.remove() }
        let digest = try registry.push("\(Runner.images)/busybox.oci.tar", as: "library/busybox")
        #expect(digest == RegistryTests.busyboxManifest)
        try registry.push("\(Runner.images)/python-slim.oci.tar", as: "team/python", tag: "3.9-slim")
        let runner = try Runner.fresh(user, tag: "pull")

        let busybox = try runner.burrow("pull", registry.name("library/busybox"))
        #expect(busybox.code == 0, "\(busybox)")
        #expect(busybox.lines.first == "latest: Pulling from library/busybox", "\(busybox)")
        #expect(busybox.lines.contains("Digest: \(RegistryTests.busyboxManifest)"), "\(busybox)")
        #expect(busybox.lines.contains("Status: Downloaded newer image for \(registry.name("library/busybox"))"), "\(busybox)")
        #expect(busybox.lines.last == registry.name("library/busybox"), "\(busybox)")
        let ran = try runner.burrow("run", "--rm", "--network", "none", registry.name("library/busybox"), "echo", "pulled")
        #expect(ran.code == 0 && ran.out == "pulled\n", "\(ran)")

        let python = try runner.burrow("pull", "-q", registry.name("team/python", "3.9-slim"))
        #expect(python.code == 0 && python.lines.count == 1 && python.out.hasPrefix("sha256:"), "\(python)")
        let id = try runner.burrow("images", "-q", "--no-trunc", registry.name("team/python", "3.9-slim"))
        #expect(id.out == python.out, "\(id) vs \(python)")
        let version = try runner.burrow("run", "--rm", "--network", "none", registry.name("team/python", "3.9-slim"), "python3", "-c", "print(6*7)")
        #expect(version.out == "42\n", "\(version)")

        // Everything present: nothing is fetched, and it says so.
        let again = try runner.burrow("pull", registry.name("library/busybox"))
        #expect(again.code == 0 && again.lines.contains("Status: Image is up to date for \(registry.name("library/busybox"))"), "\(again)")
        #expect(!again.out.contains("Pull complete"), "\(again)")
        // By digest, the same image; no tag is added.
        let pinned = try runner.burrow("pull", "127.0.0.1:\(registry.port)/library/busybox@\(RegistryTests.busyboxManifest)")
        #expect(pinned.code == 0, "\(pinned)")

        // Every tag: latest and the one pushed next.
        try registry.push("\(Runner.images)/busybox.oci.tar", as: "library/busybox", tag: "1.36")
        let all = try runner.burrow("pull", "-q", "--all-tags", "127.0.0.1:\(registry.port)/library/busybox")
        #expect(all.code == 0 && all.lines.count == 2 && Set(all.lines).count == 1, "\(all)")
        #expect(try runner.burrow("images", "--format", "{{.Tag}}", "127.0.0.1:\(registry.port)/library/busybox").out.split(separator: "\n").sorted() == ["1.36", "latest"])
        let tagged = try runner.burrow("pull", "-a", registry.name("library/busybox"))
        #expect(tagged.code == 125 && tagged.err.contains("--all-tags takes a repository without a tag"), "\(tagged)")

        let missing = try runner.burrow("pull", registry.name("library/busybox", "nope"))
        #expect(missing.code == 125 && missing.err.contains("manifest for \(registry.name("library/busybox", "nope")) not found"), "\(missing)")
        let bad = try runner.burrow("pull", "Busybox")
        #expect(bad.code == 125 && bad.err.contains("must be lowercase"), "\(bad)")
        let platform = try runner.burrow("pull", "--platform", "linux", registry.name("library/busybox"))
        #expect(platform.code == 125 && platform.err.contains("invalid platform linux"), "\(platform)")
    }

    @Test(arguments: TestUser.all)
    func basicAuthenticationOverTLS(user: TestUser) throws {
        let registry = try LoopbackRegistry(tls: true, credentials: ("tester", "s3cret"))
        defer { registry.remove() }
        try registry.push("\(Runner.images)/busybox.oci.tar", as: "private/busybox")
        let runner = try Runner.fresh(user, tag: "auth")
        let config = try RegistryTests.configHome(runner)
        let env = ["XDG_CONFIG_HOME": config]

        // The certificate is not trusted yet.
        let untrusted = try runner.burrow(arguments: ["pull", registry.name("private/busybox")], env: env)
        #expect(untrusted.code == 125 && untrusted.err.contains("certificate"), "\(untrusted)")
        let certs = "\(config)/burrow/certs.d/127.0.0.1:\(registry.port)"
        #expect(try runner.sh("mkdir -p '\(certs)' && cp '\(registry.directory)/cert.pem' '\(certs)/ca.crt'").code == 0)

        let anonymous = try runner.burrow(arguments: ["pull", registry.name("private/busybox")], env: env)
        #expect(anonymous.code == 125 && anonymous.err.contains("burrow login 127.0.0.1:\(registry.port)"), "\(anonymous)")
        #expect(try RegistryTests.nothingStored(runner))

        // A wrong password is refused and nothing is kept; the right one is kept privately.
        let authFile = "\(config)/burrow/auth.json"
        let wrong = try runner.run(Runner.binary, ["login", "-u", "tester", "--password-stdin", "127.0.0.1:\(registry.port)"], stdin: Array("nope\n".utf8), env: env)
        #expect(wrong.code == 125 && wrong.err.contains("refused the username or password"), "\(wrong)")
        #expect(!FileManager.default.fileExists(atPath: authFile))
        let login = try runner.run(Runner.binary, ["login", "-u", "tester", "--password-stdin", "127.0.0.1:\(registry.port)"], stdin: Array("s3cret\n".utf8), env: env)
        #expect(login.code == 0 && login.out == "Login Succeeded\n", "\(login)")
        #expect(try runner.sh("stat -c %a '\(authFile)'").out == "600\n")
        let withLogin = try runner.burrow(arguments: ["pull", "-q", registry.name("private/busybox")], env: env)
        #expect(withLogin.code == 0, "\(withLogin)")
        let logout = try runner.burrow(arguments: ["logout", "127.0.0.1:\(registry.port)"], env: env)
        #expect(logout.code == 0 && logout.out == "Removed login credentials for 127.0.0.1:\(registry.port)\n", "\(logout)")
        #expect(try runner.burrow(arguments: ["logout", "127.0.0.1:\(registry.port)"], env: env).out == "Not logged in to 127.0.0.1:\(registry.port)\n")
        #expect(try runner.burrow(arguments: ["pull", registry.name("private/busybox")], env: env).code == 125)

        // Credentials in podman's file are read.
        let auth = Data("tester:s3cret".utf8).base64EncodedString()
        #expect(try runner.sh("mkdir -p '\(config)/containers' && printf '%s' '{\"auths\":{\"127.0.0.1:\(registry.port)\":{\"auth\":\"\(auth)\"}}}' > '\(config)/containers/auth.json'").code == 0)
        let pulled = try runner.burrow(arguments: ["pull", registry.name("private/busybox")], env: env)
        #expect(pulled.code == 0, "\(pulled)")
        let ran = try runner.burrow("run", "--rm", "--network", "none", registry.name("private/busybox"), "true")
        #expect(ran.code == 0, "\(ran)")
    }

    @Test(arguments: TestUser.all)
    func pushThenPullKeepsTheDigestsAndSaveRoundTrips(user: TestUser) throws {
        let registry = try LoopbackRegistry()
        defer { registry.remove() }
        let source = try Runner.fresh(user, tag: "push")
        for archive in ["busybox.oci.tar", "python-slim.oci.tar", "busybox.docker.tar"] {
            let loaded = try source.burrow("load", "-q", "-i", "\(Runner.images)/\(archive)")
            #expect(loaded.code == 0, "\(loaded)")
        }
        #expect(try source.burrow("tag", "busybox", registry.name("tools/busybox", "1")).code == 0)
        #expect(try source.burrow("tag", "python:3.9-slim", registry.name("tools/python", "3.9")).code == 0)
        let pushed = try source.burrow("push", registry.name("tools/busybox", "1"))
        #expect(pushed.code == 0, "\(pushed)")
        #expect(pushed.lines.first == "The push refers to repository [127.0.0.1:\(registry.port)/tools/busybox]", "\(pushed)")
        #expect(pushed.lines.last?.hasPrefix("1: digest: \(RegistryTests.busyboxManifest) size: ") == true, "\(pushed)")
        let python = try source.burrow("push", "-q", registry.name("tools/python", "3.9"))
        #expect(python.code == 0 && python.out.hasPrefix("sha256:") && python.lines.count == 1, "\(python)")
        // The registry has every blob now: nothing is sent again.
        let again = try source.burrow("push", registry.name("tools/busybox", "1"))
        #expect(again.code == 0 && again.out.contains("Layer already exists") && !again.out.contains("Pushed"), "\(again)")
        let untagged = try source.burrow("push", registry.name("tools/nothing", "1"))
        #expect(untagged.code == 125 && untagged.err.contains("burrow tag IMAGE"), "\(untagged)")

        let target = try Runner.fresh(user, tag: "pushed")
        let pulled = try target.burrow("pull", registry.name("tools/busybox", "1"))
        #expect(pulled.code == 0 && pulled.lines.contains("Digest: \(RegistryTests.busyboxManifest)"), "\(pulled)")
        #expect(try target.burrow("pull", "-q", registry.name("tools/python", "3.9")).out == (try source.burrow("images", "-q", "--no-trunc", registry.name("tools/python", "3.9")).out))
        let ran = try target.burrow("run", "--rm", "--network", "none", registry.name("tools/python", "3.9"), "python3", "-c", "print('round trip')")
        #expect(ran.code == 0 && ran.out == "round trip\n", "\(ran)")

        // save, in both formats, loads back to the same images.
        for format in ["docker-archive", "oci-archive"] {
            let file = "\(target.store)/saved-\(format).tar"
            let saved = try target.burrow("save", "--format", format, "-o", file, registry.name("tools/busybox", "1"), registry.name("tools/python", "3.9"))
            #expect(saved.code == 0 && saved.out.isEmpty, "\(saved)")
            let fresh = try Runner.fresh(user, tag: "saved")
            let loaded = try fresh.burrow("load", "-i", file)
            #expect(loaded.code == 0 && loaded.lines == ["Loaded image: \(registry.name("tools/busybox", "1"))", "Loaded image: \(registry.name("tools/python", "3.9"))"], "\(loaded)")
            #expect(try fresh.burrow("images", "-q", "--no-trunc").out.split(separator: "\n").sorted() ==
                    (try target.burrow("images", "-q", "--no-trunc").out.split(separator: "\n").sorted()))
        }
        let layout = try target.sh("tar tf '\(target.store)/saved-docker-archive.tar' | sort | tr '\\n' ' '")
        #expect(layout.out.contains("index.json manifest.json oci-layout"), "\(layout)")
        let badFormat = try target.burrow("save", "--format", "zip", "-o", "/tmp/x.zip", "busybox")
        #expect(badFormat.code == 125 && badFormat.err.contains("invalid format zip"), "\(badFormat)")
        let noImage = try target.burrow("save", "-o", "\(target.store)/none.tar", "nosuchimage")
        #expect(noImage.code != 0 && noImage.err.contains("nosuchimage"), "\(noImage)")
        #expect(try target.sh("test ! -e '\(target.store)/none.tar' && ls '\(target.store)' | grep -c burrow-").out == "0\n")
    }

    @Test(arguments: TestUser.all)
    func runAndCreatePullAMissingImage(user: TestUser) throws {
        let registry = try LoopbackRegistry()
        defer { registry.remove() }
        try registry.push("\(Runner.images)/busybox.oci.tar", as: "library/busybox")
        let runner = try Runner.fresh(user, tag: "runpull")
        let image = registry.name("library/busybox")

        let never = try runner.burrow("run", "--rm", "--network", "none", "--pull", "never", image, "true")
        #expect(never.code == 125 && never.err.contains("is not in the store"), "\(never)")
        let invalid = try runner.burrow("run", "--rm", "--pull", "sometimes", image, "true")
        #expect(invalid.code == 125 && invalid.err.contains("invalid --pull policy sometimes"), "\(invalid)")

        let first = try runner.burrow("run", "--rm", "--network", "none", image, "echo", "hi")
        #expect(first.code == 0 && first.out == "hi\n", "\(first)")
        #expect(first.err.contains("Unable to find image '\(image)' locally") && first.err.contains("Downloaded newer image"), "\(first)")
        let second = try runner.burrow("run", "--rm", "--network", "none", image, "echo", "hi")
        #expect(second.code == 0 && second.out == "hi\n" && second.err.isEmpty, "\(second)")
        let always = try runner.burrow("create", "--network", "none", "--pull", "always", image)
        #expect(always.code == 0 && always.err.contains("Image is up to date") && always.lines.count == 1, "\(always)")
        #expect(try runner.burrow("rm", always.out.trimmingCharacters(in: .whitespacesAndNewlines)).code == 0)
        let missing = try runner.burrow("run", "--rm", registry.name("library/nothing"), "true")
        #expect(missing.code == 125 && missing.err.contains("not found") && missing.err.contains("cannot pull"), "\(missing)")
    }

    @Test(arguments: TestUser.all)
    func aMirrorServesARegistryThatCannotBeReached(user: TestUser) throws {
        let mirror = try LoopbackRegistry()
        defer { mirror.remove() }
        try mirror.push("\(Runner.images)/busybox.oci.tar", as: "library/busybox")
        let runner = try Runner.fresh(user, tag: "mirror")
        let config = try RegistryTests.configHome(runner)
        let settings = "{\"mirrors\": {\"registry.invalid\": [\"127.0.0.1:\(mirror.port)\"]}}"
        #expect(try runner.sh("printf '%s' '\(settings)' > '\(config)/burrow/registries.json'").code == 0)
        let pulled = try runner.burrow(arguments: ["pull", "registry.invalid/library/busybox"], env: ["XDG_CONFIG_HOME": config])
        #expect(pulled.code == 0 && pulled.lines.contains("Digest: \(RegistryTests.busyboxManifest)"), "\(pulled)")
        #expect(try runner.burrow("images", "--format", "{{.Repository}}").out == "registry.invalid/library/busybox\n")

        #expect(try runner.sh("printf '{\"mirrors\": [1]}' > '\(config)/burrow/registries.json'").code == 0)
        let broken = try runner.burrow(arguments: ["pull", "registry.invalid/library/busybox"], env: ["XDG_CONFIG_HOME": config])
        #expect(broken.code == 125 && broken.err.contains("registries.json is not valid"), "\(broken)")
    }

    @Test(arguments: TestUser.all)
    func zstdLayersArePulledAndPushedAsTheyAre(user: TestUser) throws {
        let registry = try LoopbackRegistry()
        defer { registry.remove() }
        let runner = try Runner.fresh(user, tag: "zstd")
        // busybox's own layer and one more, both zstd.
        let base = try LoopbackRegistry.shell("tar xOf '\(Runner.images)/busybox.oci.tar' blobs/sha256/55d6c8148bd952f0be08d3b3096cd8b64d1fb6771132b2d010d440b10433d516 | gzip -dc > '\(registry.directory)/base.tar'")
        #expect(base.code == 0, "\(base.out)")
        var top = TarBuilder()
        top.add("hello", .file("from a zstd layer\n"))
        var builder = OCIArchiveBuilder()
        builder.zstd = true
        builder.reference = "zstd:latest"
        builder.layers = [Array(try Data(contentsOf: URL(fileURLWithPath: "\(registry.directory)/base.tar"))), top.finished()]
        let archive = ImageTests.write(try builder.build(), name: "zstd.oci.tar")
        let digest = try registry.push(archive, as: "packed/zstd")

        let pulled = try runner.burrow("pull", registry.name("packed/zstd"))
        #expect(pulled.code == 0 && pulled.lines.contains("Digest: \(digest)"), "\(pulled)")
        #expect(pulled.lines.filter { $0.hasSuffix(": Pull complete") }.count == 2, "\(pulled)")
        let ran = try runner.burrow("run", "--rm", "--network", "none", registry.name("packed/zstd"), "cat", "/hello")
        #expect(ran.code == 0 && ran.out == "from a zstd layer\n", "\(ran)")
        #expect(try runner.burrow("tag", registry.name("packed/zstd"), registry.name("again/zstd")).code == 0)
        let pushed = try runner.burrow("push", "-q", registry.name("again/zstd"))
        #expect(pushed.code == 0 && pushed.out == digest + "\n", "\(pushed)")
    }

    @Test(arguments: TestUser.all)
    func aDroppedDownloadResumesAndAKilledPullLeavesNothing(user: TestUser) throws {
        let registry = try LoopbackRegistry()
        defer { registry.remove() }
        try registry.push("\(Runner.images)/python-slim.oci.tar", as: "big/python")
        let runner = try Runner.fresh(user, tag: "dropped")

        let dropping = try registry.misbehavingProxy("drop-once")
        let resumed = try runner.burrow("pull", "127.0.0.1:\(dropping)/big/python")
        #expect(resumed.code == 0 && resumed.err.contains("retrying from byte"), "\(resumed)")
        #expect(try runner.burrow("run", "--rm", "--network", "none", "127.0.0.1:\(dropping)/big/python", "python3", "-c", "print('whole')").out == "whole\n")

        // Killed in the middle of a slow download: the next pull starts clean and completes.
        let killed = try Runner.fresh(user, tag: "killed")
        let slow = try registry.misbehavingProxy("slow")
        let pull = killed.process(Runner.binary, ["pull", "-q", "127.0.0.1:\(slow)/big/python"])
        pull.standardOutput = FileHandle.nullDevice
        pull.standardError = FileHandle.nullDevice
        try pull.run()
        var partial = false
        for _ in 0..<200 {
            let sizes = try killed.sh("find '\(killed.store)/tmp' -type f -size +100k 2>/dev/null | wc -l")
            if sizes.out.trimmingCharacters(in: .whitespacesAndNewlines) != "0" { partial = true; break }
            usleep(50_000)
        }
        #expect(partial, "no partial download appeared in \(killed.store)/tmp")
        // burrow and its child in the user namespace.
        let parent = pull.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ pid_t($0) }) { kill(child, SIGKILL) }
        kill(parent, SIGKILL)
        pull.waitUntilExit()
        #expect(try killed.sh("find '\(killed.store)/layers' '\(killed.store)/images' -mindepth 1 -maxdepth 1 | wc -l").out == "0\n")
        let again = try killed.burrow("pull", "-q", "127.0.0.1:\(registry.port)/big/python")
        #expect(again.code == 0, "\(again)")
        #expect(try killed.sh("find '\(killed.store)/tmp' -mindepth 1 | wc -l").out.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let layer = try killed.sh("ls '\(killed.store)/layers/'*/")
        #expect(layer.out.split(separator: "\n").sorted() == ["blob", "blob.json", "layer.json", "root"], "\(layer)")
    }

    @Test(arguments: TestUser.all)
    func aBuildPullsItsBaseAndItsImageIsPushedAndPulledBack(user: TestUser) throws {
        let registry = try LoopbackRegistry()
        defer { registry.remove() }
        try registry.push("\(Runner.images)/busybox.oci.tar", as: "library/busybox")
        let context = Fixtures.temporaryDirectory("burrow-build-context")
        defer { try? FileManager.default.removeItem(atPath: context) }
        chmod(context, 0o755)
        try "FROM \(registry.name("library/busybox"))\nCOPY hello /hello\nCMD [\"cat\", \"/hello\"]\n"
            .write(toFile: "\(context)/Dockerfile", atomically: true, encoding: .utf8)
        try "built here\n".write(toFile: "\(context)/hello", atomically: true, encoding: .utf8)
        chmod("\(context)/Dockerfile", 0o644)
        chmod("\(context)/hello", 0o644)

        let builder = try Runner.fresh(user, tag: "build")
        let built = try builder.burrow("build", "-q", "--network", "none", "-t", registry.name("built/app", "1"), context)
        #expect(built.code == 0 && built.out.hasPrefix("sha256:"), "\(built)")
        #expect(built.err.contains("Downloaded newer image for \(registry.name("library/busybox"))"), "\(built)")
        let pushed = try builder.burrow("push", registry.name("built/app", "1"))
        #expect(pushed.code == 0, "\(pushed)")
        #expect(pushed.out.contains(": Mounted from library/busybox") && pushed.out.contains(": Pushed"), "the base layer is mounted, the COPY layer sent: \(pushed)")

        // The build's plain tar layer went gzip-compressed, the same bytes every time.
        let digest = pushed.lines.last?.components(separatedBy: "digest: ").last?.components(separatedBy: " ").first ?? ""
        #expect(try builder.burrow("tag", registry.name("built/app", "1"), registry.name("built/app", "2")).code == 0)
        #expect(try builder.burrow("push", "-q", registry.name("built/app", "2")).out == digest + "\n")
        let manifest = try LoopbackRegistry.shell("curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \(registry.base)/v2/built/app/manifests/1")
        #expect(manifest.out.contains("tar+gzip") && !manifest.out.contains("v1.tar\""), "\(manifest.out)")

        let elsewhere = try Runner.fresh(user, tag: "built")
        let ran = try elsewhere.burrow("run", "--rm", "--network", "none", registry.name("built/app", "1"))
        #expect(ran.code == 0 && ran.out == "built here\n", "\(ran)")
        #expect(try elsewhere.burrow("images", "-q", "--no-trunc").out == built.out)
    }

    static let skopeo = "/usr/bin/skopeo"

    /// Interop: what skopeo pushes, burrow pulls and runs.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: RegistryTests.skopeo), "skopeo is not installed (scripts/common.sh TEST_PACKAGES)"),
          arguments: TestUser.all)
    func anImagePushedBySkopeoIsPulledAndRun(user: TestUser) throws {
        let registry = try LoopbackRegistry()
        defer { registry.remove() }
        let copied = try LoopbackRegistry.shell("\(RegistryTests.skopeo) copy -q --dest-tls-verify=false oci-archive:\(Runner.images)/python-slim.oci.tar docker://\(registry.name("skopeo/python", "3.9"))")
        #expect(copied.code == 0, "\(copied.out)")
        let runner = try Runner.fresh(user, tag: "skopeo")
        let ran = try runner.burrow("run", "--rm", "--network", "none", registry.name("skopeo/python", "3.9"), "python3", "-c", "print('via skopeo')")
        #expect(ran.code == 0 && ran.out == "via skopeo\n", "\(ran)")
    }

    @Test(arguments: TestUser.all)
    func aRegistryIsReachedThroughHTTPSProxy(user: TestUser) throws {
        let registry = try LoopbackRegistry(tls: true)
        defer { registry.remove() }
        try registry.push("\(Runner.images)/busybox.oci.tar", as: "proxied/busybox")
        let log = "\(registry.directory)/proxy.log"
        let proxy = try registry.connectProxy(log: log)
        let runner = try Runner.fresh(user, tag: "proxy")
        let config = try RegistryTests.configHome(runner)
        // registry.test resolves nowhere: only the proxy can reach it.
        let name = "registry.test:\(registry.port)/proxied/busybox"
        let certs = "\(config)/burrow/certs.d/registry.test:\(registry.port)"
        #expect(try runner.sh("mkdir -p '\(certs)' && cp '\(registry.directory)/cert.pem' '\(certs)/ca.crt'").code == 0)
        let env = ["XDG_CONFIG_HOME": config, "HTTPS_PROXY": "http://127.0.0.1:\(proxy)"]
        let pulled = try runner.burrow(arguments: ["pull", "-q", name], env: env)
        #expect(pulled.code == 0, "\(pulled)")
        #expect(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("CONNECT registry.test:\(registry.port) HTTP/1.1"))
        var bypass = env
        bypass["NO_PROXY"] = ".test"
        let direct = try runner.burrow(arguments: ["pull", name], env: bypass)
        #expect(direct.code == 125 && direct.err.contains("cannot resolve registry.test"), "\(direct)")
    }

    @Test(arguments: TestUser.all)
    func anIndexOfSeveralPlatformsGivesEachItsImage(user: TestUser) throws {
        let registry = try LoopbackRegistry()
        defer { registry.remove() }
        let busybox = try registry.push("\(Runner.images)/busybox.oci.tar", as: "multi/app", tag: "busybox")
        let python = try registry.push("\(Runner.images)/python-slim.oci.tar", as: "multi/app", tag: "python")
        func size(_ digest: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: registry.blobFile(digest))[.size] as? Int) ?? 0
        }
        func entry(_ digest: String, _ platform: String) throws -> String {
            let parts = platform.split(separator: "/")
            let variant = parts.count > 2 ? ",\"variant\":\"\(parts[2])\"" : ""
            return "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"\(digest)\",\"size\":\(try size(digest)),\"platform\":{\"os\":\"\(parts[0])\",\"architecture\":\"\(parts[1])\"\(variant)}}"
        }
        // Listed in an order that a first-match choice would get wrong.
        let index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[" +
            [try entry(python, "linux/arm/v6"), try entry(busybox, "linux/arm/v7"), try entry(python, "linux/arm64"), try entry(busybox, "linux/amd64")]
                .joined(separator: ",") + "]}"
        let indexDigest = try registry.putManifest(index, mediaType: "application/vnd.oci.image.index.v1+json", repository: "multi/app", reference: "latest")
        let runner = try Runner.fresh(user, tag: "multi")

        func pulledID(_ platform: String) throws -> Outcome {
            try runner.burrow("pull", "-q", "--platform", platform, registry.name("multi/app"))
        }
        let busyboxID = try runner.burrow("pull", "-q", registry.name("multi/app", "busybox")).out
        let pythonID = try runner.burrow("pull", "-q", registry.name("multi/app", "python")).out
        #expect(busyboxID != pythonID && !busyboxID.isEmpty)
        #expect(try pulledID("linux/amd64").out == busyboxID)
        #expect(try pulledID("linux/arm64").out == pythonID)
        #expect(try pulledID("linux/arm64/v8").out == pythonID)
        #expect(try pulledID("linux/arm/v7").out == busyboxID)
        #expect(try pulledID("linux/arm/v6").out == pythonID)
        #expect(try pulledID("linux/arm/v8").out == busyboxID)
        let none = try pulledID("linux/s390x")
        #expect(none.code == 125 && none.err.contains("has no image for linux/s390x: it has linux/arm/v6, linux/arm/v7, linux/arm64, linux/amd64"), "\(none)")
        let tooOld = try pulledID("linux/arm/v5")
        #expect(tooOld.code == 125 && tooOld.err.contains("no image for linux/arm/v5"), "\(tooOld)")
        // The index's digest names the image, as Docker shows it; by that digest it is found, not pulled again.
        let pinned = "127.0.0.1:\(registry.port)/multi/app@\(indexDigest)"
        let byDigest = try runner.burrow("pull", "--platform", "linux/arm64", pinned)
        #expect(byDigest.code == 0 && byDigest.lines.contains("Digest: \(indexDigest)"), "\(byDigest)")
        let found = try runner.burrow("run", "--rm", "--network", "none", pinned, "true")
        #expect(found.code == 0 && !found.err.contains("Unable to find"), "\(found)")
        // This machine's own platform, with no flag.
        if hostMachine() == "x86_64" {
            #expect(try runner.burrow("pull", "-q", registry.name("multi/app")).out == busyboxID)
        }
    }

    @Test(arguments: TestUser.all)
    func aDamagedBlobOrManifestIsRefusedAndNothingIsStored(user: TestUser) throws {
        let registry = try LoopbackRegistry()
        defer { registry.remove() }
        try registry.push("\(Runner.images)/busybox.oci.tar", as: "bad/busybox")
        let runner = try Runner.fresh(user, tag: "damaged")
        let manifest = try String(contentsOfFile: registry.blobFile(RegistryTests.busyboxManifest), encoding: .utf8)
        let layer = manifest.components(separatedBy: "\"layers\"")[1].components(separatedBy: "\"digest\":\"")[1].components(separatedBy: "\"")[0]
        let layerFile = registry.blobFile(layer)
        let original = try Data(contentsOf: URL(fileURLWithPath: layerFile))

        // Same size, one byte changed: the digest is wrong.
        var flipped = original
        flipped[flipped.count / 2] ^= 0xff
        try flipped.write(to: URL(fileURLWithPath: layerFile))
        let corrupted = try runner.burrow("pull", registry.name("bad/busybox"))
        #expect(corrupted.code == 125 && corrupted.err.contains("expected \(layer)") && corrupted.err.contains("nothing was stored"), "\(corrupted)")
        #expect(try RegistryTests.nothingStored(runner), "\(runner.storeListing)")

        // Shorter than its descriptor says.
        try original.prefix(original.count - 100).write(to: URL(fileURLWithPath: layerFile))
        let short = try runner.burrow("pull", registry.name("bad/busybox"))
        #expect(short.code == 125 && short.err.contains("the manifest says \(original.count)"), "\(short)")
        #expect(try RegistryTests.nothingStored(runner), "\(runner.storeListing)")

        // An empty body.
        try Data().write(to: URL(fileURLWithPath: layerFile))
        let empty = try runner.burrow("pull", registry.name("bad/busybox"))
        #expect(empty.code == 125 && empty.err.contains("empty body"), "\(empty)")
        #expect(try RegistryTests.nothingStored(runner), "\(runner.storeListing)")
        // Gone from the registry: a 404.
        try FileManager.default.removeItem(atPath: layerFile)
        let gone = try runner.burrow("pull", registry.name("bad/busybox"))
        #expect(gone.code == 125 && gone.err.contains("is not on the registry"), "\(gone)")
        #expect(try RegistryTests.nothingStored(runner), "\(runner.storeListing)")
        try original.write(to: URL(fileURLWithPath: layerFile))

        // The manifest's bytes no longer hash to the digest it is filed under.
        let manifestFile = registry.blobFile(RegistryTests.busyboxManifest)
        try (manifest.replacingOccurrences(of: ",", with: ", ")).write(toFile: manifestFile, atomically: false, encoding: .utf8)
        let byTag = try runner.burrow("pull", registry.name("bad/busybox"))
        #expect(byTag.code == 125 && byTag.err.contains("the registry says \(RegistryTests.busyboxManifest)"), "\(byTag)")
        let byDigest = try runner.burrow("pull", "127.0.0.1:\(registry.port)/bad/busybox@\(RegistryTests.busyboxManifest)")
        #expect(byDigest.code == 125 && byDigest.err.contains("expected \(RegistryTests.busyboxManifest)"), "\(byDigest)")
        #expect(try RegistryTests.nothingStored(runner), "\(runner.storeListing)")

        // Repaired, the same store takes it.
        try manifest.write(toFile: manifestFile, atomically: false, encoding: .utf8)
        let good = try runner.burrow("pull", registry.name("bad/busybox"))
        #expect(good.code == 0, "\(good)")
    }
}
}

func hostMachine() -> String {
    var names = utsname()
    uname(&names)
    return withUnsafePointer(to: names.machine) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
}
