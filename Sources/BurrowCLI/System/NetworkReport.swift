import BurrowSandbox
import BurrowSystem
import Glibc

/// The `network` section of `burrow info`: the default mode, what the
/// userspace network needs on this host, and what it will use.
enum NetworkReport {
    static func lines() -> [(String, String)] {
        var lines: [(String, String)] = [
            ("default", "slirp (a userspace network: eth0 \(SlirpNetwork.containerAddress)/\(SlirpNetwork.prefixLength), gateway \(SlirpNetwork.gateway), DNS \(SlirpNetwork.nameserver), MTU \(SlirpNetwork.mtu))"),
        ]
        let tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC)
        if tun >= 0 {
            close(tun)
            lines.append(("/dev/net/tun", "usable"))
        } else {
            let why = String(cString: strerror(errno))
            lines.append(("/dev/net/tun", FileSystem.exists("/dev/net/tun")
                ? "present, not usable: \(why) (use --network host or none)" : "missing: load the tun module, or use --network host or none"))
        }
        if let helper = try? NetworkHelper.binary() {
            lines.append(("burrow-net", helper))
        } else {
            lines.append(("burrow-net", "not found beside burrow: build it with scripts/build.sh (--network slirp needs it)"))
        }
        let resolvConf = getenv("BURROW_RESOLV_CONF").map { String(cString: $0) } ?? "/etc/resolv.conf"
        let servers = ((try? FileSystem.readText(resolvConf)) ?? "").split(separator: "\n")
            .filter { $0.hasPrefix("nameserver") }.map { $0.split(separator: " ").last.map(String.init) ?? "" }
        lines.append(("resolvers", "\(servers.isEmpty ? "none" : servers.joined(separator: " ")) (from \(resolvConf))"))
        let start = HostSystem.readSetting("/proc/sys/net/ipv4/ip_unprivileged_port_start") ?? "1024"
        lines.append(("publishable ports", "\(start) to 65535 (net.ipv4.ip_unprivileged_port_start=\(start))"))
        lines.append(("host loopback", "not reachable from containers unless --network slirp:allow_host_loopback=true"))
        return lines
    }
}
