import Glibc
import BurrowStore

/// `-p` as Docker reads it: `[address:][hostPort[-end]:]containerPort[-end][/tcp|/udp]`,
/// an IPv6 address in brackets. Pure: text in, mappings out.
public enum PortSpec {
    /// A flag's value that cannot be read, and why.
    public struct Invalid: Error, CustomStringConvertible {
        public var what = "port mapping"
        public let spec: String
        public let reason: String
        public var description: String { "invalid \(what) \(spec): \(reason)" }
    }

    public static func parse(_ spec: String) throws(Invalid) -> [PortMapping] {
        func fail(_ reason: String) -> Invalid { Invalid(spec: spec, reason: reason) }
        var rest = Substring(spec)
        var transport = PortMapping.Transport.tcp
        if let slash = rest.lastIndex(of: "/") {
            guard let named = PortMapping.Transport(rawValue: rest[rest.index(after: slash)...].lowercased()) else {
                throw fail("the protocol must be tcp or udp")
            }
            transport = named
            rest = rest[..<slash]
        }

        guard !rest.contains("/") else { throw fail("give the protocol once: /tcp or /udp") }
        var address: String? = nil
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("an IPv6 address needs its closing ]") }
            address = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
            guard rest.hasPrefix(":") else { throw fail("a host port or container port must follow the address") }
            rest = rest.dropFirst()
            guard IPAddress.isIPv6(address!) else { throw fail("\(address!) is not an IPv6 address") }
        }
        var parts = rest.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if address == nil && parts.count == 3 {
            address = parts.removeFirst()
            guard IPAddress.isIPv4(address!) else {
                throw fail("\(address!) is not an IPv4 address (write an IPv6 address in brackets: [::1]:4000:80)")
            }
        }
        if address != nil && parts.count == 1 { parts.insert("", at: 0) }
        guard parts.count == 1 || parts.count == 2 else { throw fail("expected [address:][hostPort:]containerPort[/protocol]") }

        let container = try range(parts.last!, what: "container port", fail)
        let host: ClosedRange<UInt16>?
        // Host port 0, as Docker reads it: any free port.
        if parts.count == 2 && parts[0] == "0" { parts[0] = "" }
        if parts.count == 2 && !parts[0].isEmpty {
            host = try range(parts[0], what: "host port", fail)
            guard host!.count == container.count else {
                throw fail("the host range \(parts[0]) and the container range \(parts[1]) must be the same length")
            }
        } else {
            host = nil
        }
        return container.enumerated().map { offset, port in
            PortMapping(hostAddress: address.flatMap { $0.isEmpty ? nil : $0 },
                        hostPort: host.map { $0.lowerBound + UInt16(offset) } ?? 0, containerPort: port, transport: transport)
        }
    }

    /// Two mappings may not ask for the same host port on overlapping
    /// addresses: the second would fail as if something else held it.
    public static func requireDistinct(_ mappings: [PortMapping]) throws(Invalid) {
        for (index, mapping) in mappings.enumerated() where mapping.hostPort != 0 {
            for earlier in mappings[..<index] where earlier.hostPort == mapping.hostPort && earlier.transport == mapping.transport {
                let (a, b) = (earlier.hostAddress, mapping.hostAddress)
                guard a == nil || b == nil || a == b else { continue }
                let key = "\(mapping.hostPort)/\(mapping.transport.rawValue)"
                throw Invalid(spec: key, reason: "host port \(key) is asked for twice (for container ports \(earlier.containerPort) and \(mapping.containerPort)): give each its own host port")
            }
        }
    }

    /// `-P`: every port the image exposes (`80/tcp`, `53/udp`, `8080`), on any free host port.
    public static func exposed(_ keys: [String]) -> [PortMapping] {
        keys.sorted().compactMap { key in
            let pieces = key.split(separator: "/")
            guard let port = pieces.first.flatMap({ UInt16($0) }), port > 0 else { return nil }
            let transport = pieces.count > 1 ? PortMapping.Transport(rawValue: pieces[1].lowercased()) ?? .tcp : .tcp
            return PortMapping(hostPort: 0, containerPort: port, transport: transport)
        }
    }

    private static func range(_ text: String, what: String, _ fail: (String) -> Invalid) throws(Invalid) -> ClosedRange<UInt16> {
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count <= 2, let low = UInt16(bounds[0]), low > 0,
              let high = bounds.count == 2 ? UInt16(bounds[1]) : low else {
            throw fail("the \(what) must be a number from 1 to 65535, or a range like 8000-8001")
        }
        guard high >= low else { throw fail("the \(what) range \(text) ends before it starts") }
        return low...high
    }
}

/// Numeric IP addresses, checked with the libc parser.
public enum IPAddress {
    public static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    public static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }
}
