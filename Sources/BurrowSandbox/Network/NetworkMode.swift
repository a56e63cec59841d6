/// `--network` as `run`, `create` and `build` read it: `slirp` (or Docker's
/// name `bridge`) with options after a colon, `none`, `host`.
public enum NetworkMode {
    public struct Choice: Equatable, Sendable {
        public var network: RunOptions.Network
        public var allowHostLoopback = false
    }

    public static func parse(_ text: String?) throws(PortSpec.Invalid) -> Choice {
        guard let text else { return Choice(network: .slirp) }
        guard !text.isEmpty else { throw invalid("''", "give a mode: slirp (the default), none or host") }
        let parts = text.split(separator: ":", maxSplits: 1)
        let name = parts.first.map(String.init) ?? ""
        switch name {
        case "none", "host":
            guard parts.count == 1 else { throw invalid(text, "--network \(name) takes no options") }
            return Choice(network: RunOptions.Network(rawValue: name)!)
        case "slirp", "slirp4netns", "bridge", "default":
            var choice = Choice(network: .slirp)
            for option in parts.count > 1 ? parts[1].split(separator: ",") : [] {
                switch option {
                case "allow_host_loopback=true": choice.allowHostLoopback = true
                case "allow_host_loopback=false": choice.allowHostLoopback = false
                default: throw invalid(text, "the slirp network knows the option allow_host_loopback=true|false only")
                }
            }
            return choice
        default:
            throw invalid(text, "use slirp (the default), none or host")
        }
    }

    private static func invalid(_ text: String, _ reason: String) -> PortSpec.Invalid {
        PortSpec.Invalid(what: "network mode", spec: text, reason: reason)
    }
}
