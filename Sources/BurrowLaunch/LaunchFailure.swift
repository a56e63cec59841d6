import BurrowSystem
import Glibc

/// A step of the child failed: which one, as the user reads it, and errno.
public struct LaunchFailure: Error, CustomStringConvertible, Sendable {
    public enum Phase: Sendable, Equatable {
        case step(Int)
        case waitForMaps, standardInput, session, boundingSet, setGroups, setGID, setUID, capabilities
        case resourceLimit, noNewPrivileges, workingDirectory, closeDescriptors, seccomp, exec, deathSignal, network
        case standardStreams, console
        case unknown(UInt32)
    }

    public let phase: Phase
    public let label: String
    public let errno: Int32

    public var reason: String { String(cString: strerror(errno)) }
    public var description: String { "\(label): \(reason)" }

    static func phase(_ code: UInt32) -> Phase {
        let base: UInt32 = 0x10000
        if code < base { return .step(Int(code)) }
        switch code - base {
        case 1: return .waitForMaps
        case 2: return .standardInput
        case 3: return .session
        case 4: return .boundingSet
        case 5: return .setGroups
        case 6: return .setGID
        case 7: return .setUID
        case 8: return .capabilities
        case 9: return .resourceLimit
        case 10: return .noNewPrivileges
        case 11: return .workingDirectory
        case 12: return .closeDescriptors
        case 13: return .seccomp
        case 14: return .exec
        case 15: return .deathSignal
        case 16: return .network
        case 17: return .standardStreams
        case 18: return .console
        default: return .unknown(code)
        }
    }

    static func label(_ phase: Phase, plan: LaunchPlan) -> String {
        let process = plan.process
        switch phase {
        case .step(let index): return index < plan.steps.count ? plan.steps[index].label : "step \(index)"
        case .waitForMaps: return "wait for the id maps"
        case .standardInput: return "open /dev/null as standard input"
        case .session: return "start a new session"
        case .boundingSet: return "drop capabilities from the bounding set"
        case .setGroups: return "set supplementary groups \(process?.groups ?? [])"
        case .setGID: return "set gid \(process?.user?.gid ?? 0)"
        case .setUID: return "set uid \(process?.user?.uid ?? 0)"
        case .capabilities: return "set capabilities"
        case .resourceLimit: return "set resource limits"
        case .noNewPrivileges: return "set no_new_privs"
        case .workingDirectory: return "enter working directory \(process?.workingDirectory ?? "/")"
        case .closeDescriptors: return "close inherited descriptors"
        case .seccomp: return "load the seccomp filter"
        case .exec: return "exec \(process?.arguments.first ?? "")"
        case .deathSignal: return "set the parent-death signal"
        case .network: return "create the network namespace and bring up its loopback"
        case .standardStreams: return "connect the container's standard streams"
        case .console: return "make the container's terminal"
        case .unknown(let code): return "step \(code)"
        }
    }
}
