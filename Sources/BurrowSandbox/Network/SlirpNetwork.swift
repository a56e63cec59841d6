import BurrowLaunch

/// The addresses of the userspace network, as slirp4netns and podman use
/// them: the container is 10.0.2.100 on eth0, the host is the gateway
/// 10.0.2.2, libslirp's DNS forwarder answers on 10.0.2.3. burrow-net's
/// net.h holds the same numbers.
public enum SlirpNetwork {
    public static let device = "eth0"
    public static let containerAddress = "10.0.2.100"
    public static let prefixLength = 24
    public static let gateway = "10.0.2.2"
    public static let nameserver = "10.0.2.3"
    /// As slirp4netns's: large frames make a fast TAP.
    public static let mtu = 65520

    public static let tap = TapDevice(name: device, address: containerAddress, prefixLength: prefixLength, gateway: gateway, mtu: mtu)
}
