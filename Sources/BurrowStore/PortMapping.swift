import BurrowOCI

/// One published port: a host address and port forwarded to a port of the
/// container. As asked for (`-p`, `-P`) it is kept in the configuration,
/// where host port 0 asks for any free one; as published it is kept in the
/// record with the port the host gave.
public struct PortMapping: Sendable, Equatable, Hashable {
    public enum Transport: String, Sendable { case tcp, udp }

    /// The host address the port is published on; nil is every address,
    /// IPv4 and IPv6, as Docker does.
    public var hostAddress: String?
    public var hostPort: UInt16
    public var containerPort: UInt16
    public var transport: Transport

    public init(hostAddress: String? = nil, hostPort: UInt16, containerPort: UInt16, transport: Transport = .tcp) {
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.transport = transport
    }

    /// `80/tcp`, as Docker names a container's port.
    public var containerKey: String { "\(containerPort)/\(transport.rawValue)" }

    /// The host side as `burrow port` prints it: `0.0.0.0:4000`, `[::]:4000`.
    public var hostEndpoint: String {
        let address = hostAddress ?? "0.0.0.0"
        return address.contains(":") ? "[\(address)]:\(hostPort)" : "\(address):\(hostPort)"
    }

    init(json: JSONValue) throws(RecordError) {
        hostAddress = json["hostAddress"]?.string
        guard let host = json["hostPort"]?.int64, let container = json["containerPort"]?.int64,
              let transport = Transport(rawValue: json["transport"]?.string ?? "tcp") else { throw .missing("ports") }
        hostPort = UInt16(truncatingIfNeeded: host)
        containerPort = UInt16(truncatingIfNeeded: container)
        self.transport = transport
    }

    var json: JSONValue {
        .object([("hostAddress", .optional(hostAddress)), ("hostPort", .number(hostPort)),
                 ("containerPort", .number(containerPort)), ("transport", .string(transport.rawValue))])
    }

    static func list(_ json: JSONValue?) throws(RecordError) -> [PortMapping] {
        var ports: [PortMapping] = []
        for item in json?.array ?? [] { ports.append(try PortMapping(json: item)) }
        return ports
    }
}
