/// The files every container gets in /etc.
enum EtcFiles {
    /// The host's resolv.conf; without the host's network, nameservers on
    /// the host's loopback cannot be reached from the container, so they go.
    static func resolvConf(host: String, network: RunOptions.Network) -> String {
        guard network != .host else { return host }
        var lines: [String] = []
        for line in host.split(separator: "\n", omittingEmptySubsequences: false) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.first == "nameserver", let address = fields.dropFirst().first,
               address.hasPrefix("127.") || address == "::1" {
                continue
            }
            lines.append(String(line))
        }
        return lines.joined(separator: "\n")
    }
}
