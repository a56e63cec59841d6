import BurrowSystem
import CBurrowLaunch
import Glibc

/// The network device a container's first process makes in its new network
/// namespace for a userspace network: a TAP device with an IPv4 address
/// and a default route through the gateway.
public struct TapDevice: Sendable {
    public var name: String
    /// Dotted IPv4 addresses.
    public var address: String
    public var prefixLength: Int
    public var gateway: String
    public var mtu: Int

    public init(name: String, address: String, prefixLength: Int, gateway: String, mtu: Int) {
        self.name = name
        self.address = address
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.mtu = mtu
    }

    func request(socket: Int32) -> burrow_tap {
        var tap = burrow_tap()
        tap.socket = socket
        tap.address = TapDevice.networkOrder(address)
        tap.netmask = prefixLength == 0 ? 0 : (UInt32.max << UInt32(32 - prefixLength)).bigEndian
        tap.gateway = TapDevice.networkOrder(gateway)
        tap.mtu = UInt32(mtu)
        withUnsafeMutableBytes(of: &tap.name) { bytes in
            for (index, byte) in name.utf8.prefix(bytes.count - 1).enumerated() { bytes[index] = byte }
        }
        return tap
    }

    private static func networkOrder(_ dotted: String) -> UInt32 {
        var address = in_addr()
        _ = inet_pton(AF_INET, dotted, &address)
        return address.s_addr
    }
}

/// What the parent gets of a child's TAP device: the device, the child's
/// network namespace and its user namespace, as open descriptors.
public struct NetworkEnd: Sendable {
    public let device: Int32
    public let network: Int32
    public let user: Int32

    public func close() {
        for fd in [device, network, user] where fd >= 0 { Glibc.close(fd) }
    }
}
