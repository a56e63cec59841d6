import BurrowSystem
import Glibc

/// What a rootless process may do with cgroups: whether cgroup v2 is
/// there, which cgroup the process is in, whether that cgroup is its to
/// write (systemd's Delegate= hands a user@UID.service subtree, or a scope,
/// to its user), and which controllers reach it. Read once, only files;
/// `problem(for:)` then says in one line why a limit cannot be had, and
/// what would fix it.
public struct CgroupDelegation: Sendable, Equatable {
    public enum Hierarchy: String, Sendable {
        /// cgroup v2 alone.
        case unified
        /// v2 beside v1 hierarchies that hold some (or all) of the controllers.
        case hybrid
        /// v1 alone.
        case legacy
        case none
    }

    public let hierarchy: Hierarchy
    /// Where v2 is mounted.
    public let mount: String?
    /// This process's own cgroup; nil without v2, or when the process is
    /// outside the part of the hierarchy mounted here.
    public let directory: String?
    /// The own cgroup is the hierarchy's root, which has no limits of its
    /// own and may hold processes beside enabled controllers.
    public let isRoot: Bool
    /// The controllers the own cgroup may use (its cgroup.controllers).
    public let available: [String]
    /// The controllers it passes on to cgroups below it (cgroup.subtree_control).
    public let enabled: [String]
    /// The controllers the kernel offers in v2 at all (the root's cgroup.controllers).
    public let offered: [String]
    /// Controllers on v1 hierarchies, which v2 cannot have.
    public let legacyControllers: [String]
    /// The own cgroup, its cgroup.procs and cgroup.subtree_control are writable by this user.
    public let writable: Bool
    /// This process and its own descendants, in the own cgroup.
    public let ours: [Int32]
    /// Every other process in the own cgroup.
    public let others: [Int32]

    /// Reads the host's state; no file is written.
    public static func detect(_ host: CgroupHost) -> CgroupDelegation {
        let legacy = host.legacyControllers.sorted()
        let hierarchy: Hierarchy = host.unifiedMount == nil ? (legacy.isEmpty ? .none : .legacy) : (legacy.isEmpty ? .unified : .hybrid)
        guard let mount = host.unifiedMount else {
            return CgroupDelegation(hierarchy: hierarchy, mount: nil, directory: nil, isRoot: false, available: [], enabled: [], offered: [],
                                    legacyControllers: legacy, writable: false, ours: [], others: [])
        }
        let offered = words("\(mount)/cgroup.controllers")
        guard let directory = host.ownDirectory else {
            return CgroupDelegation(hierarchy: hierarchy, mount: mount, directory: nil, isRoot: false, available: [], enabled: [], offered: offered,
                                    legacyControllers: legacy, writable: false, ours: [], others: [])
        }
        // Every cgroup but the root has a cgroup.type (a cgroup namespace's "/" is not the root).
        let isRoot = !FileSystem.exists("\(directory)/cgroup.type")
        let writable = host.isWritable(directory) && host.isWritable("\(directory)/cgroup.procs")
            && host.isWritable("\(directory)/cgroup.subtree_control")
        var ours: [Int32] = []
        var others: [Int32] = []
        for pid in words("\(directory)/cgroup.procs").compactMap({ Int32($0) }) {
            if descends(pid, from: host.pid, host: host) { ours.append(pid) } else { others.append(pid) }
        }
        return CgroupDelegation(hierarchy: hierarchy, mount: mount, directory: directory, isRoot: isRoot,
                                available: words("\(directory)/cgroup.controllers"),
                                enabled: words("\(directory)/cgroup.subtree_control").map { $0.hasPrefix("+") ? String($0.dropFirst()) : $0 },
                                offered: offered, legacyControllers: legacy, writable: writable, ours: ours, others: others)
    }

    /// Whether `pid` is `ancestor` or a process below it.
    static func descends(_ pid: Int32, from ancestor: Int32, host: CgroupHost) -> Bool {
        var current = pid
        for _ in 0..<64 {
            if current == ancestor { return true }
            guard let parent = host.parentPID(current), parent > 0, parent != current else { return false }
            current = parent
        }
        return false
    }

    static func words(_ path: String) -> [String] {
        guard let text = try? FileSystem.readText(path) else { return [] }
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }

    /// Throws BurrowError.unsupported (exit 125) with `problem(for:)`.
    public func check(_ needs: [ResourceLimits.ControllerNeed]) throws {
        if let problem = problem(for: needs) { throw BurrowError.unsupported(problem) }
    }

    /// The canonical order of controllers in messages and in the Delegate= we suggest.
    static let controllerOrder = ["cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma", "misc"]

    /// Why the flags in `needs` cannot have their controllers here, in one
    /// line naming the flags, the controller and the fix; nil when they can.
    public func problem(for needs: [ResourceLimits.ControllerNeed]) -> String? {
        guard !needs.isEmpty else { return nil }
        let controllers = unique(needs.map(\.controller))
        func flags(_ wanted: [String]) -> [String] { unique(needs.filter { wanted.contains($0.controller) }.map(\.flag)) }
        func subject(_ flags: [String]) -> String {
            flags.count == 1 ? "\(flags[0]) needs" : "\(flags.dropLast().joined(separator: ", ")) and \(flags.last!) need"
        }
        func without(_ flags: [String]) -> String { "run without \(flags.joined(separator: " "))" }
        func the(_ controllers: [String]) -> String {
            controllers.count == 1 ? "the \(controllers[0]) controller"
                : "the \(controllers.dropLast().joined(separator: ", ")) and \(controllers.last!) controllers"
        }
        let all = flags(controllers)
        let delegatedScope = "start burrow in a delegated scope of its own, e.g. systemd-run --user --scope -p Delegate=yes burrow run ..."

        switch hierarchy {
        case .none:
            return "\(subject(all)) cgroup v2, but this host has no cgroup hierarchy mounted: \(without(all))"
        case .legacy:
            return "\(subject(all)) cgroup v2, but this host runs only cgroup v1: ask an administrator to boot with systemd.unified_cgroup_hierarchy=1, or \(without(all))"
        case .unified, .hybrid:
            break
        }
        let onLegacy = controllers.filter { !offered.contains($0) && legacyControllers.contains($0) }
        if !onLegacy.isEmpty {
            let it = onLegacy.count == 1 ? "it" : "them"
            return "\(subject(flags(onLegacy))) \(the(onLegacy)) in cgroup v2, but this host runs \(it) on cgroup v1 (a hybrid setup): ask an administrator to boot with systemd.unified_cgroup_hierarchy=1, or \(without(flags(onLegacy)))"
        }
        let absent = controllers.filter { !offered.contains($0) }
        if !absent.isEmpty {
            return "\(subject(flags(absent))) \(the(absent)), which this kernel does not offer in cgroup v2 (\(mount ?? "")/cgroup.controllers): \(without(flags(absent)))"
        }
        guard let directory else {
            return "\(subject(all)) this process's own cgroup, but /proc/self/cgroup places it outside the cgroup v2 hierarchy mounted at \(mount ?? "?"): \(without(all))"
        }
        guard writable else {
            return "\(subject(all)) a cgroup delegated to you, but your cgroup (\(directory)) is not writable by you: \(delegatedScope), or \(without(all))"
        }
        let missing = controllers.filter { !available.contains($0) }
        if !missing.isEmpty {
            let delegate = CgroupDelegation.controllerOrder.filter { Set(available + missing + ["cpu", "memory", "pids"]).contains($0) }
            let it = missing.count == 1 ? "it" : "them"
            return "\(subject(flags(missing))) \(the(missing)), but your cgroup (\(directory)) does not delegate \(it): ask an administrator to set Delegate=\(delegate.joined(separator: " ")) in user@.service, or \(without(flags(missing)))"
        }
        // No internal processes: controllers are enabled for the cgroups
        // below only once this cgroup holds no process. Burrow moves its own
        // (see ContainerCgroup), never anyone else's.
        let toEnable = controllers.filter { !enabled.contains($0) }
        if !toEnable.isEmpty && !isRoot && !others.isEmpty {
            let listed = others.prefix(3).map(String.init).joined(separator: ", ") + (others.count > 3 ? ", ..." : "")
            return "\(subject(flags(toEnable))) \(the(toEnable)) enabled below your cgroup (\(directory)), which the kernel allows only once no process is left in it, and it holds processes burrow did not start (pids \(listed)): \(delegatedScope), or \(without(flags(toEnable)))"
        }
        return nil
    }

    private func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}
