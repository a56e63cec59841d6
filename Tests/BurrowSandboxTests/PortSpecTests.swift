@testable import BurrowSandbox
import BurrowStore
import Testing

/// `-p` in every form Docker reads, and `--network` with its options.
struct PortSpecTests {
    struct Case: CustomStringConvertible, Sendable {
        let text: String
        let expected: [PortMapping]
        var description: String { text }
    }

    static let valid: [Case] = [
        Case(text: "4000:80", expected: [PortMapping(hostPort: 4000, containerPort: 80)]),
        Case(text: "80", expected: [PortMapping(hostPort: 0, containerPort: 80)]),
        Case(text: "127.0.0.1:4000:80", expected: [PortMapping(hostAddress: "127.0.0.1", hostPort: 4000, containerPort: 80)]),
        Case(text: "127.0.0.1::80", expected: [PortMapping(hostAddress: "127.0.0.1", hostPort: 0, containerPort: 80)]),
        Case(text: "[::1]:4000:80", expected: [PortMapping(hostAddress: "::1", hostPort: 4000, containerPort: 80)]),
        Case(text: "[::1]::80/udp", expected: [PortMapping(hostAddress: "::1", hostPort: 0, containerPort: 80, transport: .udp)]),
        Case(text: "4000:80/udp", expected: [PortMapping(hostPort: 4000, containerPort: 80, transport: .udp)]),
        Case(text: "4000:80/TCP", expected: [PortMapping(hostPort: 4000, containerPort: 80)]),
        Case(text: "8000-8001:80-81", expected: [PortMapping(hostPort: 8000, containerPort: 80), PortMapping(hostPort: 8001, containerPort: 81)]),
        Case(text: "80-81/udp", expected: [PortMapping(hostPort: 0, containerPort: 80, transport: .udp), PortMapping(hostPort: 0, containerPort: 81, transport: .udp)]),
        Case(text: "0:80", expected: [PortMapping(hostPort: 0, containerPort: 80)]),
        Case(text: "0.0.0.0:53:53/udp", expected: [PortMapping(hostAddress: "0.0.0.0", hostPort: 53, containerPort: 53, transport: .udp)]),
    ]

    @Test(arguments: valid)
    func readsEveryDockerForm(_ item: Case) throws {
        #expect(try PortSpec.parse(item.text) == item.expected)
    }

    static let invalid: [(String, String)] = [
        ("4000:80/sctp", "tcp or udp"),
        ("localhost:4000:80", "not an IPv4 address"),
        ("[::1:4000:80", "closing ]"),
        ("[::1]", "must follow the address"),
        ("[1.2.3.4]:4000:80", "not an IPv6 address"),
        ("4000:0", "from 1 to 65535"),
        ("70000:80", "from 1 to 65535"),
        ("http:80", "from 1 to 65535"),
        ("8000-8002:80-81", "same length"),
        ("81-80", "ends before it starts"),
        ("1:2:3:4", "expected [address:]"),
        ("", "from 1 to 65535"),
        ("4033:80/tcp/udp", "give the protocol once"),
    ]

    @Test(arguments: invalid)
    func namesWhatIsWrong(_ text: String, _ reason: String) {
        #expect {
            try PortSpec.parse(text)
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("invalid port mapping \(text): ") && message.contains(reason)
        }
    }

    @Test func exposedPortsAreSortedAndKeepTheirProtocol() {
        let ports = PortSpec.exposed(["80/tcp", "53/udp", "8080", "bogus/tcp", "0/tcp"])
        #expect(ports == [PortMapping(hostPort: 0, containerPort: 53, transport: .udp),
                          PortMapping(hostPort: 0, containerPort: 80),
                          PortMapping(hostPort: 0, containerPort: 8080)])
    }

    @Test func aHostPortAskedForTwiceIsRefused() throws {
        #expect(throws: Never.self) { try PortSpec.requireDistinct(try PortSpec.parse("4000:80") + PortSpec.parse("4000:80/udp") + PortSpec.parse("127.0.0.1:4001:80") + PortSpec.parse("[::1]:4001:81") + PortSpec.parse("80") + PortSpec.parse("81")) }
        for pair in [("4020:80", "4020:81"), ("4020:80", "127.0.0.1:4020:81"), ("[::1]:4020:80", "[::1]:4020:81")] {
            #expect {
                try PortSpec.requireDistinct(try PortSpec.parse(pair.0) + PortSpec.parse(pair.1))
            } throws: { error in
                "\(error)".contains("host port 4020/tcp is asked for twice (for container ports 80 and 81)")
            }
        }
    }

    @Test func networkModes() throws {
        #expect(try NetworkMode.parse(nil) == NetworkMode.Choice(network: .slirp))
        #expect(try NetworkMode.parse("none").network == .none)
        #expect(try NetworkMode.parse("host").network == .host)
        #expect(try NetworkMode.parse("bridge").network == .slirp)
        #expect(try NetworkMode.parse("slirp4netns:allow_host_loopback=true") == NetworkMode.Choice(network: .slirp, allowHostLoopback: true))
        #expect(try NetworkMode.parse("slirp:allow_host_loopback=false").allowHostLoopback == false)
        for (text, reason) in [("pasta", "use slirp"), ("", "give a mode"), ("host:x", "takes no options"), ("slirp:mtu=1500", "allow_host_loopback")] {
            #expect {
                try NetworkMode.parse(text)
            } throws: { error in
                "\(error)".hasPrefix("invalid network mode \(text.isEmpty ? "''" : text): ") && "\(error)".contains(reason)
            }
        }
    }
}
