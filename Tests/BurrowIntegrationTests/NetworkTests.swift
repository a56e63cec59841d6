import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// The userspace network: the container's eth0, published ports in every
/// form, outbound traffic and DNS, the errors that stop a container before it
/// starts, and a forwarder that survives rude clients. Traffic stays on the
/// host's loopback and inside the test's own containers.
extension Integration {
@Suite struct NetworkTests {
    /// A port free on every address for both protocols, or `count` of them in a row.
    static func freePort(count: Int = 1) -> UInt16 {
        for _ in 0..<1000 {
            let first = UInt16.random(in: 20000...(60000 - UInt16(count)))
            if (0..<count).allSatisfy({ HostSocket.isFree(first + UInt16($0)) }) { return first }
        }
        fatalError("no free port")
    }

    /// A shell line serving `page` on each port from busybox httpd; the last one in the foreground.
    static func httpd(_ ports: [UInt16: String]) -> String {
        let sorted = ports.keys.sorted()
        return sorted.map { port in
            let serve = port == sorted.last ? "exec httpd -f" : "httpd"
            return "mkdir -p /www\(port) && echo '\(ports[port]!)' > /www\(port)/index.html && \(serve) -p \(port) -h /www\(port)"
        }.joined(separator: " && ")
    }

    /// curl as the test user; a server that is not up yet is retried.
    static func fetch(_ runner: Runner, _ url: String, retry: Bool = true) throws -> Outcome {
        let retrying = retry ? ["--retry", "30", "--retry-delay", "1", "--retry-all-errors"] : []
        return try runner.run("/usr/bin/curl", ["-sS", "-g", "--max-time", "5"] + retrying + [url])
    }

    static func script(_ text: String, name: String) -> String {
        ImageTests.write(Array(text.utf8), name: name)
    }

    @Test(arguments: TestUser.all)
    func containersGetEth0ARouteAndTheStacksResolver(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let slirp = try runner.burrow("run", "--rm", "busybox", "sh", "-c",
                                      "ls /sys/class/net; cat /sys/class/net/eth0/mtu; ip -o -4 addr show dev eth0; ip route; grep nameserver /etc/resolv.conf; grep \"$(hostname)\" /etc/hosts")
        #expect(slirp.code == 0, "\(slirp)")
        let lines = slirp.lines
        #expect(Array(lines.prefix(3)) == ["eth0", "lo", "65520"], "\(slirp)")
        #expect(lines.contains { $0.contains("eth0") && $0.contains("inet 10.0.2.100/24") }, "\(slirp)")
        #expect(lines.contains { $0.hasPrefix("default via 10.0.2.2 dev eth0") }, "\(slirp)")
        #expect(lines.contains("nameserver 10.0.2.3"), "\(slirp)")
        #expect(lines.last?.hasPrefix("10.0.2.100") == true, "\(slirp)")

        let none = try runner.burrow("run", "--rm", "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net; ip route; wc -l < /proc/net/route")
        #expect(none.code == 0 && none.out == "lo\n1\n", "\(none)")
        let name = LifecycleTests.name("netnone")
        #expect(try runner.burrow("create", "--name", name, "--network", "none", "busybox").code == 0)
        #expect(try runner.burrow("inspect", "-f", "{{.HostConfig.NetworkMode}}", name).out == "none\n")
        #expect(try runner.burrow("rm", name).code == 0)

        let unknown = try runner.burrow("run", "--rm", "--network", "pasta", "busybox", "true")
        #expect(unknown.code == 125 && unknown.err.contains("invalid network mode pasta") && unknown.lines.isEmpty, "\(unknown)")
    }

    @Test(arguments: TestUser.all)
    func aPublishedPortServesIPv4AndIPv6(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("web")
        let port = NetworkTests.freePort()
        let started = try runner.burrow("run", "-d", "--name", name, "-p", "\(port):80", "busybox", "sh", "-c", NetworkTests.httpd([80: "hello from \(name)"]))
        #expect(started.code == 0, "\(started)")
        defer { _ = try? runner.burrow("rm", "-f", name) }
        for host in ["127.0.0.1", "[::1]"] {
            let page = try NetworkTests.fetch(runner, "http://\(host):\(port)/")
            #expect(page.code == 0 && page.out == "hello from \(name)\n", "\(host): \(page)")
        }
        let listed = try runner.burrow("port", name)
        #expect(listed.out == "80/tcp -> 0.0.0.0:\(port)\n80/tcp -> [::]:\(port)\n", "\(listed)")
        #expect(try runner.burrow("port", name, "80").out == "0.0.0.0:\(port)\n[::]:\(port)\n")
        let missing = try runner.burrow("port", name, "80/udp")
        #expect(missing.code != 0 && missing.err.contains("80/udp"), "\(missing)")
        let ps = try runner.burrow("ps", "--filter", "name=\(name)", "--format", "{{.Ports}}")
        #expect(ps.out == "0.0.0.0:\(port)->80/tcp, [::]:\(port)->80/tcp\n", "\(ps)")
        let inspected = try runner.burrow("inspect", "-f", "{{.HostConfig.NetworkMode}} {{.NetworkSettings.IPAddress}} {{json .NetworkSettings.Ports}}", name)
        #expect(inspected.out == "slirp 10.0.2.100 {\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"\(port)\"},{\"HostIp\":\"::\",\"HostPort\":\"\(port)\"}]}\n", "\(inspected)")

        // Stopping the container closes the host's listeners with it.
        #expect(try runner.burrow("stop", "-t", "1", name).code == 0)
        #expect(try LifecycleTests.eventually { HostSocket.isFree(port) }, "port \(port) still bound after stop")
        #expect(try runner.burrow("port", name).out == "")
        let refused = try NetworkTests.fetch(runner, "http://127.0.0.1:\(port)/", retry: false)
        #expect(refused.code != 0, "\(refused)")
    }

    @Test(arguments: TestUser.all)
    func addressesEphemeralPortsAndRanges(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("ports")
        let v4 = NetworkTests.freePort(), v6 = NetworkTests.freePort(), range = NetworkTests.freePort(count: 2)
        let anyV4 = NetworkTests.freePort(), anyV6 = NetworkTests.freePort()
        let pages: [UInt16: String] = [80: "port 80", 81: "port 81", 82: "port 82", 83: "port 83", 84: "port 84"]
        let started = try runner.burrow("run", "-d", "--name", name, "-p", "127.0.0.1:\(v4):80", "-p", "[::1]:\(v6):81", "-p", "82",
                                        "-p", "\(range)-\(range + 1):83-84",
                                        "-p", "0.0.0.0:\(anyV4):80", "-p", "[::]:\(anyV6):81", "busybox", "sh", "-c", NetworkTests.httpd(pages))
        #expect(started.code == 0, "\(started)")
        defer { _ = try? runner.burrow("rm", "-f", name) }

        #expect(try NetworkTests.fetch(runner, "http://127.0.0.1:\(v4)/").out == "port 80\n")
        #expect(try NetworkTests.fetch(runner, "http://[::1]:\(v4)/", retry: false).code != 0, "bound on 127.0.0.1 only")
        #expect(try NetworkTests.fetch(runner, "http://[::1]:\(v6)/").out == "port 81\n")
        #expect(try NetworkTests.fetch(runner, "http://127.0.0.1:\(v6)/", retry: false).code != 0, "bound on ::1 only")
        #expect(try NetworkTests.fetch(runner, "http://127.0.0.1:\(range)/").out == "port 83\n")
        #expect(try NetworkTests.fetch(runner, "http://[::1]:\(range + 1)/").out == "port 84\n")

        // BC-23: 0.0.0.0 is IPv4 only, [::] IPv6 only.
        #expect(try NetworkTests.fetch(runner, "http://127.0.0.1:\(anyV4)/").out == "port 80\n")
        #expect(try NetworkTests.fetch(runner, "http://[::1]:\(anyV4)/", retry: false).code != 0, "0.0.0.0 is IPv4 only")
        #expect(try NetworkTests.fetch(runner, "http://[::1]:\(anyV6)/").out == "port 81\n")
        #expect(try NetworkTests.fetch(runner, "http://127.0.0.1:\(anyV6)/", retry: false).code != 0, "[::] is IPv6 only")

        #expect(try runner.burrow("port", name, "80").out == "127.0.0.1:\(v4)\n0.0.0.0:\(anyV4)\n")
        #expect(try runner.burrow("port", name, "81/tcp").out == "[::1]:\(v6)\n[::]:\(anyV6)\n")
        let ephemeral = try runner.burrow("port", name, "82")
        let endpoints = ephemeral.lines
        #expect(endpoints.count == 2 && endpoints[0].hasPrefix("0.0.0.0:") && endpoints[1].hasPrefix("[::]:"), "\(ephemeral)")
        let given = try #require(endpoints.first.flatMap { UInt16($0.dropFirst("0.0.0.0:".count)) }, "\(ephemeral)")
        #expect(given > 0 && endpoints[1] == "[::]:\(given)")
        #expect(try NetworkTests.fetch(runner, "http://127.0.0.1:\(given)/").out == "port 82\n")
    }

    /// TCP and UDP on the same port number are separate ports, each reaching its own server.
    @Test(arguments: TestUser.all)
    func udpIsEchoedAndIndependentOfTCP(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("udp")
        let port = NetworkTests.freePort()
        let server = """
        import socket, threading
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("0.0.0.0", 9999))
        tcp = socket.socket()
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind(("0.0.0.0", 9999))
        tcp.listen()
        def serve_tcp():
            while True:
                client, _ = tcp.accept()
                client.sendall(b"tcp here")
                client.close()
        threading.Thread(target=serve_tcp, daemon=True).start()
        while True:
            data, peer = udp.recvfrom(65536)
            udp.sendto(b"echo " + data, peer)
        """
        let started = try runner.burrow("run", "-d", "--name", name, "-p", "\(port):9999/udp", "-p", "\(port):9999/tcp",
                                        "python:3.9-slim", "python", "-u", "-c", server)
        #expect(started.code == 0, "\(started)")
        defer { _ = try? runner.burrow("rm", "-f", name) }
        let client = NetworkTests.script("""
        import socket, sys, time
        port = int(sys.argv[1])
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.settimeout(0.5)
            answers = []
            for attempt in range(60):
                sock.sendto(b"datagram %d" % len(answers), (host, port))
                try:
                    answers.append(sock.recv(65536).decode())
                except socket.timeout:
                    continue
                if len(answers) == 3:
                    break
            big = b"x" * 30000
            sock.settimeout(5)
            sock.sendto(big, (host, port))
            print(host, answers, sock.recv(65536) == b"echo " + big)
            for attempt in range(20):
                try:
                    with socket.create_connection((host, port), timeout=5) as stream:
                        print(host, stream.recv(100).decode())
                        break
                except OSError:
                    time.sleep(0.5)
        """, name: "udp-client.py")
        let result = try runner.run("/usr/bin/python3", [client, "\(port)"])
        #expect(result.code == 0, "\(result)")
        #expect(result.lines == ["127.0.0.1 ['echo datagram 0', 'echo datagram 1', 'echo datagram 2'] True", "127.0.0.1 tcp here",
                                 "::1 ['echo datagram 0', 'echo datagram 1', 'echo datagram 2'] True", "::1 tcp here"], "\(result)")
        let listed = try runner.burrow("port", name)
        #expect(listed.out == "9999/tcp -> 0.0.0.0:\(port)\n9999/tcp -> [::]:\(port)\n9999/udp -> 0.0.0.0:\(port)\n9999/udp -> [::]:\(port)\n", "\(listed)")
    }

    /// -P publishes what the image exposes, each on a free port.
    @Test(arguments: TestUser.all)
    func publishAllUsesTheImagesExposedPorts(user: TestUser) throws {
        var builder = OCIArchiveBuilder()
        builder.layers = [ImageTests.busyboxLayerTar]
        builder.config["ExposedPorts"] = ["80/tcp": [String: String](), "81/tcp": [String: String]()]
        builder.config["Cmd"] = ["sh", "-c", NetworkTests.httpd([80: "exposed 80", 81: "exposed 81"])]
        builder.reference = "localhost/exposing:1"
        let runner = try Runner.shared(user)
        #expect(try runner.burrow("load", "-q", "-i", ImageTests.write(try builder.build(), name: "exposing.tar")).code == 0)
        let name = LifecycleTests.name("publishall")
        let started = try runner.burrow("run", "-d", "-P", "--name", name, "localhost/exposing:1")
        #expect(started.code == 0, "\(started)")
        defer { _ = try? runner.burrow("rm", "-f", name) }
        let listed = try runner.burrow("port", name)
        #expect(listed.lines.map { $0.prefix { $0 != " " } } == ["80/tcp", "80/tcp", "81/tcp", "81/tcp"], "\(listed)")
        for (index, line) in listed.lines.enumerated() where index % 2 == 0 {
            let port = try #require(line.split(separator: ":").last.flatMap { UInt16($0) }, "\(line)")
            let page = try NetworkTests.fetch(runner, "http://127.0.0.1:\(port)/")
            #expect(page.out == (index == 0 ? "exposed 80\n" : "exposed 81\n"), "\(page)")
        }
    }

    /// A port that cannot be had stops the container before it starts: exit
    /// 125, one line naming the port, and nothing left behind.
    @Test(arguments: TestUser.all)
    func busyAndPrivilegedPortsFailBeforeTheContainerStarts(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let before = try runner.burrow("ps", "-a", "-q").lines
        func helpers() throws -> Set<String> { Set(try runner.sh("pgrep -u \(user.uid) -x burrow-net || true").lines) }
        let helpersBefore = try helpers()
        let port = NetworkTests.freePort()
        let held = try #require(HostSocket.listen(port), "could not hold port \(port)")
        defer { close(held) }

        let busy = try runner.burrow("run", "--rm", "-p", "\(port):80", "busybox", "true")
        #expect(busy.code == 125, "\(busy)")
        #expect(busy.err == "burrow: port \(port)/tcp on 0.0.0.0 is already in use: stop what listens there, or publish another host port (-p OTHER:80)\n", "\(busy)")
        // As in Docker, a container run without --rm stays, recording why it did not start.
        let name = LifecycleTests.name("busy")
        let named = try runner.burrow("run", "-d", "--name", name, "-p", "127.0.0.1:\(port):80", "busybox", "sleep", "10")
        #expect(named.code == 125 && named.err.contains("port \(port)/tcp on 127.0.0.1 is already in use"), "\(named)")
        let state = try runner.burrow("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}", name)
        #expect(state.out.hasPrefix("exited 125 port \(port)/tcp on 127.0.0.1 is already in use"), "\(state)")
        #expect(try runner.burrow("rm", name).code == 0)
        // The same number over UDP is another port, and free.
        #expect(try runner.burrow("run", "--rm", "-p", "\(port):80/udp", "busybox", "true").code == 0)

        let start = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_unprivileged_port_start", encoding: .utf8)
        let first = try #require(UInt16(start.trimmingCharacters(in: .whitespacesAndNewlines)))
        try #require(first > 1, "every port is unprivileged on this host (ip_unprivileged_port_start=\(first)): the privileged-port error cannot be shown")
        let privileged = try runner.burrow("run", "--rm", "-p", "\(first - 1):80", "busybox", "true")
        #expect(privileged.code == 125 && privileged.err.contains("net.ipv4.ip_unprivileged_port_start") && privileged.err.contains("\(first - 1)"), "\(privileged)")
        #expect(privileged.err.split(separator: "\n").count == 1, "\(privileged)")
        #expect(privileged.err.contains("sysctl -w net.ipv4.ip_unprivileged_port_start=\(first - 1)"), "suggests the lowest value that works: \(privileged)")

        let typo = try runner.burrow("run", "--rm", "-p", "4000:80/sctp", "busybox", "true")
        #expect(typo.code == 125 && typo.err.contains("invalid port mapping 4000:80/sctp"), "\(typo)")
        // As Docker: with the host's network, ports are already the host's; a warning says so.
        let hostPorts = try runner.burrow("run", "--rm", "--network", "host", "-p", "4000:80", "busybox", "true")
        #expect(hostPorts.code == 0 && hostPorts.err.contains("published ports are discarded with --network host"), "\(hostPorts)")
        let nonePorts = try runner.burrow("run", "--rm", "--network", "none", "-p", "4000:80", "busybox", "true")
        #expect(nonePorts.code == 125 && nonePorts.err.contains("--network none"), "\(nonePorts)")
        let twice = try runner.burrow("run", "--rm", "-p", "\(port):80", "-p", "\(port):81/tcp", "busybox", "true")
        #expect(twice.code == 125 && twice.err.contains("host port \(port)/tcp is asked for twice"), "\(twice)")

        #expect(try runner.burrow("ps", "-a", "-q").lines == before, "a failed start left a container")
        #expect(try LifecycleTests.eventually { try helpers().subtracting(helpersBefore).isEmpty }, "a network helper was left running")
    }

    /// BC-21: once the sysctl allows the port, it is served. The sysctl
    /// belongs to a network namespace: the test makes one of its own, with
    /// only loopback, so the host's setting is never touched.
    @Test(arguments: TestUser.all)
    func aLowPortWorksOnceTheSysctlAllowsIt(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("lowport")
        let asUser = "setpriv --reuid=\(user.uid) --regid=\(user.gid) --init-groups --inh-caps=-all -- env -i " + runner.environment([:]).joined(separator: " ")
        let script = """
        ip link set lo up && sysctl -qw net.ipv4.ip_unprivileged_port_start=80 &&
        \(asUser) \(Runner.binary) run -d --name \(name) -p 127.0.0.1:80:80 busybox sh -c "mkdir /www && echo low port > /www/index.html && exec httpd -f -p 80 -h /www" >/dev/null &&
        \(asUser) /usr/bin/curl -sS -g --max-time 5 --retry 30 --retry-delay 1 --retry-all-errors http://127.0.0.1:80/;
        \(asUser) \(Runner.binary) rm -f \(name) >/dev/null
        """
        let result = try runner.run("/usr/bin/unshare", ["--net", "/bin/sh", "-c", script], asRoot: true)
        #expect(result.code == 0 && result.out == "low port\n", "\(result)")
    }

    /// Outbound TCP and UDP reach the host's loopback through the gateway
    /// only when the user asks for it.
    @Test(arguments: TestUser.all)
    func theHostsLoopbackIsReachableOnlyWhenAllowed(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let port = NetworkTests.freePort()
        let serverScript = NetworkTests.script("""
        import http.server, socket, sys, threading
        port = int(sys.argv[1])
        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"from the host"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", port))
        def echo():
            while True:
                data, peer = udp.recvfrom(2048)
                udp.sendto(b"host echo " + data, peer)
        threading.Thread(target=echo, daemon=True).start()
        http.server.HTTPServer(("127.0.0.1", port), Page).serve_forever()
        """, name: "host-server.py")
        let server = runner.process("/usr/bin/python3", [serverScript, "\(port)"])
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        // The test's threads block signals its children inherit: only SIGKILL ends them.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        #expect(try LifecycleTests.eventually { !HostSocket.isFree(port) })

        let client = """
        import socket, urllib.request
        print(urllib.request.urlopen("http://10.0.2.2:\(port)/", timeout=5).read().decode())
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.settimeout(5)
        udp.sendto(b"hi", ("10.0.2.2", \(port)))
        print(udp.recv(100).decode())
        """
        let allowed = try runner.burrow("run", "--rm", "--network", "slirp:allow_host_loopback=true", "python:3.9-slim", "python", "-c", client)
        #expect(allowed.code == 0 && allowed.out == "from the host\nhost echo hi\n", "\(allowed)")
        let denied = try runner.burrow("run", "--rm", "python:3.9-slim", "python", "-c", client)
        #expect(denied.code != 0 && !denied.out.contains("from the host"), "\(denied)")
    }

    /// Names resolve through the stack's forwarder from the host's resolver:
    /// here one the test runs, answering for a name no other resolver knows.
    @Test(arguments: TestUser.all)
    func namesResolveThroughTheHostsResolver(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let address = "127.0.0.77"
        let resolver = NetworkTests.script("""
        import socket, struct
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("\(address)", 53))
        while True:
            query, peer = sock.recvfrom(512)
            ident, flags, questions = struct.unpack(">HHH", query[:6])
            at, labels = 12, []
            while query[at]:
                labels.append(query[at + 1:at + 1 + query[at]].decode())
                at += query[at] + 1
            question = query[12:at + 5]
            qtype = struct.unpack(">H", query[at + 1:at + 3])[0]
            known = ".".join(labels).lower() == "burrow-test.example"
            answers = 1 if known and qtype == 1 else 0
            header = struct.pack(">HHHHHH", ident, 0x8180 if known else 0x8183, 1, answers, 0, 0)
            answer = b"\\xc0\\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.55") if answers else b""
            sock.sendto(header + question + answer, peer)
        """, name: "resolver.py")
        let resolvConf = NetworkTests.script("nameserver \(address)\n", name: "resolv.conf")
        let server = runner.process("/usr/bin/python3", [resolver], asRoot: true)
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        // The test's threads block signals its children inherit: only SIGKILL ends them.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        usleep(300_000)

        let lookup = try runner.burrow("run", "--rm", "python:3.9-slim", "python", "-c",
                                       "import socket; print(socket.gethostbyname('burrow-test.example'))",
                                       env: ["BURROW_RESOLV_CONF": resolvConf])
        #expect(lookup.code == 0 && lookup.out == "192.0.2.55\n", "\(lookup)")
        let unknown = try runner.burrow("run", "--rm", "python:3.9-slim", "python", "-c",
                                        "import socket; socket.gethostbyname('nothing-here.example')",
                                        env: ["BURROW_RESOLV_CONF": resolvConf])
        #expect(unknown.code != 0 && unknown.err.contains("gaierror"), "\(unknown)")
    }

    /// A thousand clients at once, clients that vanish mid-transfer, a port
    /// nobody listens on, and a container that exits under open connections:
    /// the forwarder keeps serving, gives back every descriptor, and the
    /// monitor records an honest end.
    @Test(arguments: TestUser.all)
    func theForwarderSurvivesRudeClients(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("rude")
        let echo = NetworkTests.freePort(), firehose = NetworkTests.freePort(), nobody = NetworkTests.freePort()
        let server = """
        import asyncio, resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        async def echo(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except ConnectionError:
                pass
            writer.close()
        async def firehose(reader, writer):
            chunk = b"x" * 65536
            try:
                while True:
                    writer.write(chunk)
                    await writer.drain()
            except ConnectionError:
                pass
            writer.close()
        async def main():
            a = await asyncio.start_server(echo, "0.0.0.0", 7000, backlog=2048)
            b = await asyncio.start_server(firehose, "0.0.0.0", 7001, backlog=2048)
            await asyncio.gather(a.serve_forever(), b.serve_forever())
        asyncio.run(main())
        """
        let started = try runner.burrow("run", "-d", "--name", name, "-p", "\(echo):7000", "-p", "\(firehose):7001", "-p", "\(nobody):7002",
                                        "python:3.9-slim", "python", "-c", server)
        #expect(started.code == 0, "\(started)")
        defer { _ = try? runner.burrow("rm", "-f", name) }
        let clientScript = NetworkTests.script("""
        import resource, socket, struct, sys, time
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        mode, port = sys.argv[1], int(sys.argv[2])
        def connect(retries=60):
            for attempt in range(retries):
                try:
                    return socket.create_connection(("127.0.0.1", port), timeout=30)
                except OSError:
                    time.sleep(0.5)
            raise SystemExit("cannot connect")
        def round_trip(sock, message):
            sock.sendall(message)
            got = b""
            while len(got) < len(message):
                more = sock.recv(65536)
                if not more:
                    return False
                got += more
            return got == message
        if mode == "ready":
            for attempt in range(120):
                try:
                    with connect() as sock:
                        if round_trip(sock, b"ping"):
                            print("ready")
                            break
                except OSError:
                    pass
                time.sleep(0.5)
        elif mode == "many":
            socks = [connect() for _ in range(1000)]
            ok = sum(round_trip(sock, b"client %d" % i) for i, sock in enumerate(socks))
            for sock in socks:
                sock.close()
            print("echoed", ok)
        elif mode == "big":
            with connect() as sock:
                print("big", round_trip(sock, bytes(range(256)) * 40000))
        elif mode == "vanish":
            for round in range(20):
                sock = connect()
                got = 0
                while got < 1 << 20:
                    got += len(sock.recv(65536))
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            print("vanished", 20)
        elif mode == "refused":
            ends = 0
            for round in range(50):
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                    try:
                        ends += sock.recv(10) == b""
                    except ConnectionResetError:
                        ends += 1
            print("closed", ends)
        elif mode == "hold":
            socks = [connect() for _ in range(10)]
            for sock in socks:
                round_trip(sock, b"hello")
            print("holding", flush=True)
            sys.stdin.read(1)
            ended = 0
            for sock in socks:
                sock.settimeout(10)
                try:
                    ended += sock.recv(10) == b""
                except OSError:
                    ended += 1
            print("ended", ended)
        """, name: "rude-client.py")
        func client(_ mode: String, _ port: UInt16) throws -> Outcome { try runner.run("/usr/bin/python3", [clientScript, mode, "\(port)"]) }

        #expect(try client("ready", echo).out == "ready\n")
        let helper = try #require(try NetworkTests.networkHelper(of: name, runner), "no burrow-net process serves \(name)")
        usleep(500_000)
        let baseline = NetworkTests.descriptors(helper)

        #expect(try client("many", echo).out == "echoed 1000\n")
        #expect(try client("big", echo).out == "big True\n")
        #expect(try client("vanish", firehose).out == "vanished 20\n")
        #expect(try client("refused", nobody).out == "closed 50\n")
        #expect(try LifecycleTests.eventually { NetworkTests.descriptors(helper) == baseline },
                "burrow-net holds \(NetworkTests.descriptors(helper)) descriptors, \(baseline) before the clients")
        #expect(try client("big", echo).out == "big True\n", "the forwarder stopped serving")
        #expect(try runner.burrow("inspect", "-f", "{{.State.Status}}", name).out == "running\n")

        // The container ends under ten open connections: each is closed, and
        // the monitor records the exit and takes the network down.
        let holder = runner.process("/usr/bin/python3", [clientScript, "hold", "\(echo)"])
        let toHolder = Pipe(), fromHolder = Pipe()
        holder.standardInput = toHolder
        holder.standardOutput = fromHolder
        try holder.run()
        let holding = fromHolder.fileHandleForReading.availableData
        #expect(String(decoding: holding, as: UTF8.self) == "holding\n")
        #expect(try runner.burrow("kill", name).code == 0)
        toHolder.fileHandleForWriting.write(Data("x".utf8))
        let ended = fromHolder.fileHandleForReading.readDataToEndOfFile()
        holder.waitUntilExit()
        #expect(String(decoding: ended, as: UTF8.self) == "ended 10\n")
        #expect(try runner.burrow("wait", name).out == "137\n")
        #expect(try LifecycleTests.eventually { kill(helper, 0) != 0 }, "burrow-net outlived its container")
        #expect(try LifecycleTests.eventually { HostSocket.isFree(echo) && HostSocket.isFree(firehose) && HostSocket.isFree(nobody) })
    }

    /// The burrow-net process whose forwarder thread sits in the container's network namespace.
    static func networkHelper(of name: String, _ runner: Runner) throws -> pid_t? {
        let pid = try runner.burrow("inspect", "-f", "{{.State.Pid}}", name).out.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net") else { return nil }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let candidate = pid_t(entry),
                  (try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8)) == "burrow-net\n" else { continue }
            let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/task")) ?? []
            if threads.contains(where: { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/task/\($0)/ns/net")) == namespace }) {
                return candidate
            }
        }
        return nil
    }

    static func descriptors(_ pid: pid_t) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }
}
}

/// Sockets on the host, to find free ports and to hold one busy.
enum HostSocket {
    /// Nothing is bound to `port` on 0.0.0.0 or ::, TCP or UDP.
    static func isFree(_ port: UInt16) -> Bool {
        for family in [AF_INET, AF_INET6] {
            for type in [SOCK_STREAM, SOCK_DGRAM] {
                let fd = bound(family: family, type: Int32(type.rawValue), port: port)
                guard fd >= 0 else { return false }
                close(fd)
            }
        }
        return true
    }

    /// A TCP listener on 0.0.0.0:`port`, or nil.
    static func listen(_ port: UInt16) -> Int32? {
        let fd = bound(family: AF_INET, type: Int32(SOCK_STREAM.rawValue), port: port)
        guard fd >= 0 else { return nil }
        guard Glibc.listen(fd, 16) == 0 else { close(fd); return nil }
        return fd
    }

    private static func bound(family: Int32, type: Int32, port: UInt16) -> Int32 {
        let fd = socket(family, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var on: Int32 = 1
        // Connections the forwarder closed linger in TIME_WAIT; a server rebinds over them.
        if type == Int32(SOCK_STREAM.rawValue) { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size)) }
        if family == AF_INET6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size)) }
        let result: Int32
        if family == AF_INET {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        if result != 0 { close(fd); return -1 }
        return fd
    }
}
