import BurrowLaunch
import BurrowSystem
import Glibc

/// What `burrow run` was asked to limit: cgroup v2 limits (--memory,
/// --memory-swap, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit), which
/// need a cgroup delegated to the user, and rlimits (--ulimit), which the
/// child sets itself and which always work. Pure: `parse` reads the flags'
/// text as Docker does; `cgroupFiles` and `rlimits` say what the launch does.
public struct ResourceLimits: Sendable, Equatable {
    /// --memory-swap is Docker's memory plus swap, not swap alone.
    public enum Swap: Sendable, Equatable {
        case unlimited
        case total(Int64)
    }

    /// One --ulimit, by Docker's name; UInt64.max is unlimited (RLIM_INFINITY).
    public struct Ulimit: Sendable, Equatable {
        public var name: String
        public var resource: UInt32
        public var soft: UInt64
        public var hard: UInt64

        public init(name: String, resource: UInt32, soft: UInt64, hard: UInt64) {
            self.name = name
            self.resource = resource
            self.soft = soft
            self.hard = hard
        }
    }

    /// A cgroup controller that a flag needs, named in errors as the flag.
    public struct ControllerNeed: Sendable, Equatable {
        public let flag: String
        public let controller: String

        public init(flag: String, controller: String) {
            self.flag = flag
            self.controller = controller
        }
    }

    /// memory.max, in bytes.
    public var memory: Int64?
    /// Only with `memory`; nil is Docker's default, swap as large as memory.
    public var memorySwap: Swap?
    /// --cpus in billionths of a CPU (Docker's NanoCPUs).
    public var nanoCPUs: Int64?
    /// --cpu-shares, cgroup v1's unit (1024 is the default share).
    public var cpuShares: Int64?
    /// --cpuset-cpus as given ("0-3,5"), already checked.
    public var cpusetCPUs: String?
    public var pidsLimit: Int64?
    /// In the order first given; a later --ulimit of the same name replaces an earlier one.
    public var ulimits: [Ulimit] = []

    public init() {}

    /// The period cpu.max measures a quota in, in microseconds (Docker's and the kernel's default).
    public static let cpuPeriod: Int64 = 100_000

    /// What the cgroup limits need, in the order errors name them. Empty
    /// when no cgroup limit was asked: then no cgroup is read or made.
    public var controllerNeeds: [ControllerNeed] {
        var needs: [ControllerNeed] = []
        if memory != nil { needs.append(ControllerNeed(flag: "--memory", controller: "memory")) }
        if case .total = memorySwap { needs.append(ControllerNeed(flag: "--memory-swap", controller: "memory")) }
        if nanoCPUs != nil { needs.append(ControllerNeed(flag: "--cpus", controller: "cpu")) }
        if cpuShares != nil { needs.append(ControllerNeed(flag: "--cpu-shares", controller: "cpu")) }
        if cpusetCPUs != nil { needs.append(ControllerNeed(flag: "--cpuset-cpus", controller: "cpuset")) }
        if pidsLimit != nil { needs.append(ControllerNeed(flag: "--pids-limit", controller: "pids")) }
        return needs
    }

    public var needsCgroup: Bool { !controllerNeeds.isEmpty }

    /// The rlimits for the launch plan's process (`LaunchPlan.Process.resourceLimits`).
    public var rlimits: [LaunchPlan.ResourceLimit] {
        ulimits.map { LaunchPlan.ResourceLimit(resource: $0.resource, soft: $0.soft, hard: $0.hard) }
    }

    /// The files written in the container's cgroup, in order, with their
    /// contents. `swapAccounting`: whether the kernel accounts swap in
    /// cgroups (memory.swap.max exists); without it Docker's default swap
    /// limit is left out, and an explicit --memory-swap is an error.
    public func cgroupFiles(swapAccounting: Bool) throws -> [(file: String, value: String)] {
        var files: [(file: String, value: String)] = []
        if let memory {
            files.append(("memory.max", String(memory)))
            if swapAccounting {
                switch memorySwap {
                // Docker's default: as much swap as memory (memory+swap twice the memory).
                case nil: files.append(("memory.swap.max", String(memory)))
                case .unlimited: files.append(("memory.swap.max", "max"))
                case .total(let total): files.append(("memory.swap.max", String(total - memory)))
                }
            } else if case .total = memorySwap {
                throw BurrowError.unsupported("--memory-swap needs swap accounting, but the kernel does not account swap in cgroups (there is no memory.swap.max): ask an administrator to boot with swapaccount=1, or run without --memory-swap")
            }
        }
        if let nanoCPUs {
            files.append(("cpu.max", "\(nanoCPUs * ResourceLimits.cpuPeriod / 1_000_000_000) \(ResourceLimits.cpuPeriod)"))
        }
        if let cpuShares { files.append(("cpu.weight", String(ResourceLimits.cpuWeight(shares: cpuShares)))) }
        if let cpusetCPUs { files.append(("cpuset.cpus", cpusetCPUs)) }
        if let pidsLimit { files.append(("pids.max", String(pidsLimit))) }
        return files
    }

    /// cgroup v1 CPU shares (2 to 262144, default 1024) as a cgroup v2
    /// weight (1 to 10000, default 100), as crun 1.23 and runc 1.3 convert
    /// them: a quadratic in log2(shares) through (2, 1), (1024, 100) and
    /// (262144, 10000), so the default share gives the default weight. (The
    /// older linear formula, 1 + (shares - 2) * 9999 / 262142, gave 1024 a
    /// weight of 39.)
    public static func cpuWeight(shares: Int64) -> Int64 {
        if shares <= 0 { return 0 }
        if shares <= 2 { return 1 }
        if shares >= 262_144 { return 10_000 }
        let l = log2(Double(shares))
        let exponent = (l * l + 125 * l) / 612 - 7.0 / 34
        // Rounding must not push an exact power of ten (1024 → 100) up by one.
        return Int64((pow(10, exponent) - 1e-9).rounded(.up))
    }
}
