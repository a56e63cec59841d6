import BurrowSandbox
import BurrowStore

/// `docker inspect`'s JSON for a container, the parts burrow has.
struct ContainerInspection: Encodable {
    let record: ContainerRecord
    let config: ContainerConfig?
    let layout: StoreLayout

    static let zeroTime = "0001-01-01T00:00:00Z"

    enum Keys: String, CodingKey {
        case Id, Created, Path, Args, State, Image, LogPath, Name, RestartCount, Driver, Platform, HostConfig, Config, Mounts, NetworkSettings
    }
    enum StateKeys: String, CodingKey {
        case Status, Running, Paused, Restarting, OOMKilled, Dead, Pid, ExitCode, Error, StartedAt, FinishedAt
    }
    enum HostKeys: String, CodingKey { case AutoRemove, NetworkMode, UsernsMode, Init, ReadonlyRootfs, PortBindings }
    enum ConfigKeys: String, CodingKey {
        case Hostname, Domainname, User, AttachStdin, AttachStdout, AttachStderr, Tty, OpenStdin, StdinOnce, Env, Cmd, Image,
             WorkingDir, Entrypoint, StopSignal, StopTimeout
    }
    enum NetworkKeys: String, CodingKey { case Ports, IPAddress, IPPrefixLen, Gateway, MacAddress, PortForwarding }
    struct Empty: Encodable {}

    /// Ports by container port, as Docker keys them: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "4000"}]}.
    struct PortTable: Encodable {
        let ports: [PortMapping]
        struct Binding: Encodable {
            let HostIp: String
            let HostPort: String
        }
        func encode(to encoder: Encoder) throws {
            var table: [String: [Binding]] = [:]
            for port in ports {
                table[port.containerKey, default: []].append(Binding(HostIp: port.hostAddress ?? "", HostPort: port.hostPort == 0 ? "" : "\(port.hostPort)"))
            }
            try table.encode(to: encoder)
        }
    }

    /// A mount as Docker lists it.
    struct Mount: Encodable {
        let mount: ContainerMount
        enum Keys: String, CodingKey { case `Type`, Name, Source, Destination, Mode, RW, Propagation }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(mount.type, forKey: .Type)
            if let name = mount.volume { try c.encode(name, forKey: .Name) }
            try c.encode(mount.source ?? "", forKey: .Source)
            try c.encode(mount.target, forKey: .Destination)
            try c.encode(mount.readOnly ? "ro" : "", forKey: .Mode)
            try c.encode(!mount.readOnly, forKey: .RW)
            try c.encode(mount.type == "bind" ? "rprivate" : "", forKey: .Propagation)
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(record.id, forKey: .Id)
        try c.encode(record.created, forKey: .Created)
        try c.encode(record.command.first ?? "", forKey: .Path)
        try c.encode(Array(record.command.dropFirst()), forKey: .Args)
        var s = c.nestedContainer(keyedBy: StateKeys.self, forKey: .State)
        try s.encode(record.state.rawValue, forKey: .Status)
        try s.encode(record.isRunning, forKey: .Running)
        try s.encode(false, forKey: .Paused)
        try s.encode(false, forKey: .Restarting)
        try s.encode(false, forKey: .OOMKilled)
        try s.encode(false, forKey: .Dead)
        try s.encode(record.pid ?? 0, forKey: .Pid)
        try s.encode(record.exitCode ?? 0, forKey: .ExitCode)
        try s.encode(record.error ?? "", forKey: .Error)
        try s.encode(record.started ?? ContainerInspection.zeroTime, forKey: .StartedAt)
        try s.encode(record.finished ?? ContainerInspection.zeroTime, forKey: .FinishedAt)
        try c.encode(record.imageID.description, forKey: .Image)
        try c.encode(layout.containerLog(record.id), forKey: .LogPath)
        try c.encode("/" + record.name, forKey: .Name)
        try c.encode(record.restartCount, forKey: .RestartCount)
        try c.encode(record.driver, forKey: .Driver)
        try c.encode("linux", forKey: .Platform)
        var h = c.nestedContainer(keyedBy: HostKeys.self, forKey: .HostConfig)
        try h.encode(record.autoRemove, forKey: .AutoRemove)
        try h.encode(config?.network ?? "none", forKey: .NetworkMode)
        try h.encode(config?.userNamespace ?? "", forKey: .UsernsMode)
        try h.encode(config?.initProcess ?? false, forKey: .Init)
        try h.encode(config?.readOnlyRoot ?? false, forKey: .ReadonlyRootfs)
        try h.encode(PortTable(ports: config?.publish ?? []), forKey: .PortBindings)
        if let config {
            var k = c.nestedContainer(keyedBy: ConfigKeys.self, forKey: .Config)
            try k.encode(config.hostname, forKey: .Hostname)
            try k.encode("", forKey: .Domainname)
            try k.encode(config.user, forKey: .User)
            try k.encode(config.stdinOnce, forKey: .AttachStdin)
            try k.encode(true, forKey: .AttachStdout)
            try k.encode(true, forKey: .AttachStderr)
            try k.encode(config.tty, forKey: .Tty)
            try k.encode(config.openStdin, forKey: .OpenStdin)
            try k.encode(config.stdinOnce, forKey: .StdinOnce)
            try k.encode(config.environment, forKey: .Env)
            try k.encode(config.cmd, forKey: .Cmd)
            try k.encode(config.image, forKey: .Image)
            try k.encode(config.workingDirectory, forKey: .WorkingDir)
            try k.encode(config.entrypoint, forKey: .Entrypoint)
            try k.encode(config.stopSignal ?? "SIGTERM", forKey: .StopSignal)
            try k.encode(config.stopTimeout ?? 10, forKey: .StopTimeout)
        }
        try c.encode(record.mounts.map(Mount.init), forKey: .Mounts)
        var n = c.nestedContainer(keyedBy: NetworkKeys.self, forKey: .NetworkSettings)
        try n.encode(PortTable(ports: record.isRunning ? record.ports : []), forKey: .Ports)
        let slirp = config?.network == RunOptions.Network.slirp.rawValue
        try n.encode(slirp ? SlirpNetwork.containerAddress : "", forKey: .IPAddress)
        try n.encode(slirp ? SlirpNetwork.prefixLength : 0, forKey: .IPPrefixLen)
        try n.encode(slirp ? SlirpNetwork.gateway : "", forKey: .Gateway)
        try n.encode("", forKey: .MacAddress)
        if slirp && !(config?.publish.isEmpty ?? true) {
            // The forwarder splices host connections to sockets it opens in
            // the container: the container sees them come from its own address.
            try n.encode("splice: connections reach the container from \(SlirpNetwork.containerAddress), not from the client's address",
                         forKey: .PortForwarding)
        }
    }
}
