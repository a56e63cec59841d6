import BurrowSystem

/// The files every container gets in /etc.
enum EtcFiles {
    /// /etc/hosts, /etc/hostname and /etc/resolv.conf, as Docker writes them.
    static func contents(hostname: String, network: RunOptions.Network) -> [(name: String, contents: String)] {
        let hosts: String
        if network == .host, let host = try? FileSystem.readText("/etc/hosts") {
            hosts = host
        } else {
            hosts = """
            127.0.0.1\tlocalhost
            ::1\tlocalhost ip6-localhost ip6-loopback
            fe00::0\tip6-localnet
            ff00::0\tip6-mcastprefix
            ff02::1\tip6-allnodes
            ff02::2\tip6-allrouters
            \(network == .slirp ? SlirpNetwork.containerAddress : "127.0.1.1")\t\(hostname)

            """
        }
        let resolv = resolvConf(host: (try? FileSystem.readText("/etc/resolv.conf")) ?? "", network: network)
        return [("hosts", hosts), ("hostname", "\(hostname)\n"), ("resolv.conf", resolv)]
    }

    /// The host's resolv.conf for `host`; for slirp, the stack's DNS
    /// forwarder (which asks the host's resolver) with the host's search
    /// domains and options; for none, the host's file without nameservers
    /// on the host's loopback, which the container cannot reach.
    static func resolvConf(host: String, network: RunOptions.Network) -> String {
        guard network != .host else { return host }
        var lines: [String] = []
        if network == .slirp { lines.append("nameserver \(SlirpNetwork.nameserver)") }
        for line in host.split(separator: "\n", omittingEmptySubsequences: false) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.first == "nameserver", let address = fields.dropFirst().first,
               network == .slirp || address.hasPrefix("127.") || address == "::1" {
                continue
            }
            lines.append(String(line))
        }
        return lines.joined(separator: "\n")
    }
}
