import BurrowStore
import BurrowSystem
import Glibc

/// The host's side of published ports, taken before the container starts:
/// a port that is busy or privileged fails the start, not the container.
/// The sockets go to the network helper, which serves them.
public struct PortBinding {
    /// One published port on one address, with the port the host gave.
    public struct Bound {
        public var mapping: PortMapping
        /// The bound socket: listening for TCP.
        public var socket: Int32
    }

    /// Binds every requested port; on failure closes what it bound and
    /// throws an error naming the address, port and protocol.
    public static func bind(_ requests: [PortMapping]) throws -> [Bound] {
        var bound: [Bound] = []
        do {
            for request in requests {
                let addresses = request.hostAddress.map { [$0] } ?? ["0.0.0.0", "::"]
                var port = request.hostPort
                for address in addresses {
                    var mapping = request
                    mapping.hostAddress = address
                    mapping.hostPort = port
                    guard let socket = try open(mapping, optional: request.hostAddress == nil && address == "::") else { continue }
                    mapping.hostPort = socket.port
                    port = socket.port
                    bound.append(Bound(mapping: mapping, socket: socket.fd))
                }
            }
        } catch {
            release(bound)
            throw error
        }
        return bound
    }

    public static func release(_ bound: [Bound]) {
        for port in bound { close(port.socket) }
    }

    /// A bound socket and its port; nil for the IPv6 half of an
    /// every-address port on a host without IPv6.
    private static func open(_ mapping: PortMapping, optional: Bool) throws -> (fd: Int32, port: UInt16)? {
        let address = mapping.hostAddress ?? "0.0.0.0"
        let ipv6 = address.contains(":")
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(mapping.transport == .tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 {
            if optional && errno == EAFNOSUPPORT { return nil }
            throw SystemError("open a socket for port \(mapping.hostPort)/\(mapping.transport.rawValue)", errno: errno)
        }
        var one: Int32 = 1
        if mapping.transport == .tcp { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
        if ipv6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        var storage = sockaddr_storage()
        let length = SocketAddress.fill(&storage, address: address, port: mapping.hostPort)
        let bound = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) } }
        if bound != 0 || (mapping.transport == .tcp && listen(fd, 4096) != 0) {
            let error = errno
            close(fd)
            if optional && (error == EADDRNOTAVAIL || error == EAFNOSUPPORT) { return nil }
            throw failure(mapping, errno: error)
        }
        return (fd, SocketAddress.port(of: fd))
    }

    static func failure(_ mapping: PortMapping, errno error: Int32) -> Error {
        let what = "port \(mapping.hostPort)/\(mapping.transport.rawValue) on \(mapping.hostAddress ?? "0.0.0.0")"
        switch error {
        case EADDRINUSE:
            return BurrowError.conflict("\(what) is already in use: stop what listens there, or publish another host port (-p OTHER:\(mapping.containerPort))")
        case EACCES where Int(mapping.hostPort) < unprivilegedPortStart:
            return BurrowError.permissionDenied(
                "cannot publish \(what): ports below \(unprivilegedPortStart) need privileges (sysctl net.ipv4.ip_unprivileged_port_start=\(unprivilegedPortStart)): "
                + "publish a host port of \(unprivilegedPortStart) or more, e.g. -p \(max(8080, unprivilegedPortStart)):\(mapping.containerPort), "
                + "or have root lower the sysctl to the port: sysctl -w net.ipv4.ip_unprivileged_port_start=\(mapping.hostPort)")
        case EADDRNOTAVAIL:
            return BurrowError.invalidArgument("cannot publish \(what): the host has no such address")
        default:
            return SystemError("bind \(what)", errno: error)
        }
    }

    /// The first port an unprivileged process may bind.
    static var unprivilegedPortStart: Int {
        HostSystem.readSetting("/proc/sys/net/ipv4/ip_unprivileged_port_start").flatMap { Int($0) } ?? 1024
    }
}

/// sockaddr_in and sockaddr_in6 from numeric text.
enum SocketAddress {
    static func fill(_ storage: inout sockaddr_storage, address: String, port: UInt16) -> socklen_t {
        withUnsafeMutablePointer(to: &storage) { pointer in
            if address.contains(":") {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { in6 in
                    in6.pointee.sin6_family = sa_family_t(AF_INET6)
                    in6.pointee.sin6_port = port.bigEndian
                    _ = inet_pton(AF_INET6, address, &in6.pointee.sin6_addr)
                    return socklen_t(MemoryLayout<sockaddr_in6>.size)
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { in4 in
                in4.pointee.sin_family = sa_family_t(AF_INET)
                in4.pointee.sin_port = port.bigEndian
                _ = inet_pton(AF_INET, address, &in4.pointee.sin_addr)
                return socklen_t(MemoryLayout<sockaddr_in>.size)
            }
        }
    }

    static func port(of fd: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let family = storage.ss_family
        return withUnsafePointer(to: &storage) { pointer in
            family == sa_family_t(AF_INET6)
                ? pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
                : pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }
}
