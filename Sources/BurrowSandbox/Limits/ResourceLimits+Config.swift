import BurrowStore

extension ResourceLimits {
    /// The flags `run` and `create` keep in a container's configuration.
    public static let flagNames = ["memory", "memory-swap", "cpus", "cpu-shares", "cpuset-cpus", "pids-limit"]

    /// The limits from the flags' text, by flag name (`--memory` is "memory").
    public static func parse(flags: [String: String], ulimits: [String]) throws -> ResourceLimits {
        try parse(memory: flags["memory"], memorySwap: flags["memory-swap"], cpus: flags["cpus"], cpuShares: flags["cpu-shares"],
                  cpusetCPUs: flags["cpuset-cpus"], pidsLimit: flags["pids-limit"], ulimits: ulimits)
    }

    /// A container's limits, as its configuration keeps them.
    public init(_ config: ContainerConfig) throws {
        self = try ResourceLimits.parse(flags: config.limitFlags, ulimits: config.ulimits)
    }

    /// Fails, before anything is made, when the host cannot give these cgroup limits.
    public func checkCgroup() throws {
        guard needsCgroup else { return }
        try CgroupDelegation.detect(CgroupHost.current()).check(controllerNeeds)
    }
}
