import BurrowLaunch
@testable import BurrowSandbox
import BurrowSystem
import Foundation
import Glibc
import Testing

/// The container's cgroup, made and removed in a fake cgroup tree: what is
/// written where, what is refused and why, and what is left afterwards.
struct ContainerCgroupTests {
    static let scope = "user.slice/user-1000.slice/user@1000.service/app.slice/burrow.scope"
    static let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    static let container = "\(scope)/burrow-\(id)"

    func message(_ body: () throws -> Any?) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    func everything() throws -> ResourceLimits {
        try ResourceLimits.parse(memory: "100m", cpus: "1.5", cpuShares: "1024", cpusetCPUs: "0-1", pidsLimit: "100", cpuCount: 4)
    }

    @Test func noLimitMeansNoCgroupWorkAtAll() throws {
        let calls = Calls()
        let host = CgroupHost(unifiedMount: "/nonexistent", ownPath: "/x", pid: 1,
                              parentPID: { _ in calls.note("parentPID"); return nil },
                              isWritable: { _ in calls.note("isWritable"); return true },
                              makeCgroup: { _ in calls.note("makeCgroup") },
                              removeCgroup: { _ in calls.note("removeCgroup"); return 0 })
        let onlyUlimits = try ResourceLimits.parse(ulimits: ["nofile=10"], hardLimit: { _ in .max })
        #expect(try ContainerCgroup.prepare(limits: onlyUlimits, containerID: ContainerCgroupTests.id, host: host) == nil)
        #expect(try ContainerCgroup.prepare(limits: ResourceLimits(), containerID: ContainerCgroupTests.id) == nil)
        #expect(calls.all.isEmpty)
    }

    /// Everything asked for, in a delegated scope that holds this process
    /// and a child of it: both move to the launcher leaf, the controllers
    /// are enabled, the container's cgroup gets its files.
    @Test func theLimitsAreWrittenInTheContainersOwnCgroup() throws {
        let tree = try FakeCgroupTree()
        try tree.cgroup(ContainerCgroupTests.scope, delegated: ["cpuset", "cpu", "io", "memory", "pids"], procs: [1000, 1001])
        let host = tree.host(own: ContainerCgroupTests.scope, pid: 1000, parents: [1001: 1000, 1000: 1])
        let cgroup = try #require(try ContainerCgroup.prepare(limits: everything(), containerID: ContainerCgroupTests.id, host: host))

        let container = ContainerCgroupTests.container
        #expect(cgroup.path == tree.path(container))
        #expect(tree.read(container, "memory.max") == "104857600")
        #expect(tree.read(container, "memory.swap.max") == "104857600")
        #expect(tree.read(container, "cpu.max") == "150000 100000")
        #expect(tree.read(container, "cpu.weight") == "100")
        #expect(tree.read(container, "cpuset.cpus") == "0-1")
        #expect(tree.read(container, "pids.max") == "100")
        #expect(tree.read(ContainerCgroupTests.scope, "cgroup.subtree_control") == "+memory +cpu +cpuset +pids")
        #expect(tree.children(ContainerCgroupTests.scope) == ["burrow-\(ContainerCgroupTests.id)", "burrow-launcher"])
        // One pid per write, as the kernel takes them: the last one written stays in the fake.
        #expect(tree.read("\(ContainerCgroupTests.scope)/burrow-launcher", "cgroup.procs") == "1001")
        #expect(cgroup.warnings.isEmpty)

        var st = stat()
        #expect(fstat(cgroup.directoryFD, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR)
        var named = stat()
        #expect(stat(cgroup.path, &named) == 0 && named.st_ino == st.st_ino)

        try cgroup.remove()
        #expect(cgroup.directoryFD == -1)
        #expect(!tree.exists(container))
        try cgroup.remove()
        #expect(tree.children(ContainerCgroupTests.scope) == ["burrow-launcher"], "the leaf burrow runs in stays")
    }

    /// Controllers already enabled below the own cgroup (it holds no process,
    /// as after an earlier run): nothing is moved, nothing re-enabled.
    @Test func enabledControllersAreLeftAsTheyAre() throws {
        let tree = try FakeCgroupTree()
        try tree.cgroup(ContainerCgroupTests.scope, delegated: ["memory", "pids"], enabled: ["memory", "pids"])
        let limits = try ResourceLimits.parse(memory: "1g", pidsLimit: "5")
        let cgroup = try #require(try ContainerCgroup.prepare(limits: limits, containerID: "abc", host: tree.host(own: ContainerCgroupTests.scope)))
        #expect(tree.read(ContainerCgroupTests.scope, "cgroup.subtree_control") == "memory pids")
        #expect(tree.children(ContainerCgroupTests.scope) == ["burrow-abc"])
        #expect(tree.read("\(ContainerCgroupTests.scope)/burrow-abc", "pids.max") == "5")
        try cgroup.remove()
    }

    /// One controller missing: the needed ones are written together (the
    /// kernel ignores "+memory" for an enabled one; the fake replaces the file).
    @Test func aMissingControllerIsEnabledWithTheOthersNeeded() throws {
        let tree = try FakeCgroupTree()
        try tree.cgroup(ContainerCgroupTests.scope, delegated: ["cpu", "memory", "pids"], enabled: ["memory"])
        let limits = try ResourceLimits.parse(memory: "1g", cpus: "1", cpuCount: 2)
        let cgroup = try ContainerCgroup.prepare(limits: limits, containerID: "abc", host: tree.host(own: ContainerCgroupTests.scope))
        #expect(tree.read(ContainerCgroupTests.scope, "cgroup.subtree_control") == "+memory +cpu")
        #expect(tree.read("\(ContainerCgroupTests.scope)/burrow-abc", "cpu.max") == "100000 100000")
        try cgroup?.remove()
    }

    /// The hierarchy's root may hold processes beside enabled controllers:
    /// no leaf; and swap accounting shows only in the container's cgroup.
    @Test(arguments: [true, false])
    func inTheRootCgroup(swap: Bool) throws {
        let tree = try FakeCgroupTree(swapAccounting: swap)
        try tree.put("", "cgroup.procs", "1000\n1")
        let limits = try ResourceLimits.parse(memory: "100m")
        let cgroup = try #require(try ContainerCgroup.prepare(limits: limits, containerID: "abc", host: tree.host(own: "", pid: 1000)))
        #expect(tree.read("", "cgroup.subtree_control") == "+memory")
        #expect(tree.children("") == ["burrow-abc"])
        #expect(tree.read("burrow-abc", "memory.swap.max") == (swap ? "104857600" : nil))
        #expect(cgroup.warnings == (swap ? [] : ["the kernel does not account swap in cgroups (there is no memory.swap.max): memory is limited, swap is not"]))
        try cgroup.remove()
    }

    /// What is refused, in one line, with nothing created.
    @Test(arguments: [
        // flags, delegated to the scope, extra processes, unwritable, legacy controllers, root controllers → message
        (["cpus": "1"], ["memory", "pids"], [], false, [], nil,
         "--cpus needs the cpu controller, but your cgroup (SCOPE) does not delegate it: ask an administrator to set Delegate=cpu memory pids in user@.service, or run without --cpus"),
        (["memory": "1g", "cpus": "1", "pids": "9"], [], [], false, [], nil,
         "--memory, --cpus and --pids-limit need the memory, cpu and pids controllers, but your cgroup (SCOPE) does not delegate them: ask an administrator to set Delegate=cpu memory pids in user@.service, or run without --memory --cpus --pids-limit"),
        (["cpuset": "0"], ["memory", "pids"], [], false, [], nil,
         "--cpuset-cpus needs the cpuset controller, but your cgroup (SCOPE) does not delegate it: ask an administrator to set Delegate=cpu cpuset memory pids in user@.service, or run without --cpuset-cpus"),
        (["memory": "1g"], ["memory"], [], true, [], nil,
         "--memory needs a cgroup delegated to you, but your cgroup (SCOPE) is not writable by you: start burrow in a delegated scope of its own, e.g. systemd-run --user --scope -p Delegate=yes burrow run ..., or run without --memory"),
        (["memory": "1g"], ["memory"], [555, 556, 557, 558], false, [], nil,
         "--memory needs the memory controller enabled below your cgroup (SCOPE), which the kernel allows only once no process is left in it, and it holds processes burrow did not start (pids 555, 556, 557, ...): start burrow in a delegated scope of its own, e.g. systemd-run --user --scope -p Delegate=yes burrow run ..., or run without --memory"),
        (["memory": "1g", "pids": "5"], ["memory", "pids"], [], false, ["memory", "cpu"], ["pids"],
         "--memory needs the memory controller in cgroup v2, but this host runs it on cgroup v1 (a hybrid setup): ask an administrator to boot with systemd.unified_cgroup_hierarchy=1, or run without --memory"),
        (["memory": "1g", "cpus": "1"], ["memory", "pids"], [], false, ["memory", "cpu"], ["pids"],
         "--memory and --cpus need the memory and cpu controllers in cgroup v2, but this host runs them on cgroup v1 (a hybrid setup): ask an administrator to boot with systemd.unified_cgroup_hierarchy=1, or run without --memory --cpus"),
        (["pids": "5"], ["memory"], [], false, [], ["memory"],
         "--pids-limit needs the pids controller, which this kernel does not offer in cgroup v2 (ROOT/cgroup.controllers): run without --pids-limit"),
        (["cpuset": "0-5"], ["cpuset"], [], false, [], nil, "Requested CPUs are not available - requested 0-5, available: 0-3"),
        (["memory": "1g", "swap": "2g"], ["memory"], [], false, [], nil,
         "--memory-swap needs swap accounting, but the kernel does not account swap in cgroups (there is no memory.swap.max): ask an administrator to boot with swapaccount=1, or run without --memory-swap"),
    ] as [([String: String], [String], [Int32], Bool, [String], [String]?, String)])
    func refusals(flags: [String: String], delegated: [String], others: [Int32], unwritable: Bool, legacy: [String], offered: [String]?,
                  expected: String) throws {
        let tree = try FakeCgroupTree(offered: offered ?? FakeCgroupTree.allControllers, swapAccounting: flags["swap"] == nil)
        try tree.cgroup(ContainerCgroupTests.scope, delegated: delegated, procs: [1000] + others)
        let limits = try ResourceLimits.parse(memory: flags["memory"], memorySwap: flags["swap"], cpus: flags["cpus"],
                                              cpusetCPUs: flags["cpuset"], pidsLimit: flags["pids"], cpuCount: 8)
        let host = tree.host(own: ContainerCgroupTests.scope, pid: 1000, parents: Dictionary(uniqueKeysWithValues: others.map { ($0, 1) }),
                             unwritable: unwritable ? [ContainerCgroupTests.scope] : [], legacy: Set(legacy))
        let text = expected.replacingOccurrences(of: "SCOPE", with: tree.path(ContainerCgroupTests.scope))
            .replacingOccurrences(of: "ROOT", with: tree.root)
        #expect(message { try ContainerCgroup.prepare(limits: limits, containerID: "abc", host: host) } == text)
        #expect(tree.children(ContainerCgroupTests.scope).isEmpty, "a refused limit created a cgroup")
        #expect(tree.read(ContainerCgroupTests.scope, "cgroup.subtree_control") == "", "a refused limit enabled a controller")
        #expect(tree.read(ContainerCgroupTests.scope, "cgroup.procs") == ([1000] + others).map(String.init).joined(separator: "\n"))
    }

    @Test func withoutCgroupV2() {
        let limits = ResourceLimits.memoryOnly
        let legacy = CgroupHost(unifiedMount: nil, legacyControllers: ["memory", "pids"], ownPath: "/")
        #expect(message { try ContainerCgroup.prepare(limits: limits, containerID: "abc", host: legacy) }
            == "--memory needs cgroup v2, but this host runs only cgroup v1: ask an administrator to boot with systemd.unified_cgroup_hierarchy=1, or run without --memory")
        let none = CgroupHost(unifiedMount: nil, ownPath: nil)
        #expect(message { try ContainerCgroup.prepare(limits: limits, containerID: "abc", host: none) }
            == "--memory needs cgroup v2, but this host has no cgroup hierarchy mounted: run without --memory")
    }

    @Test func aProcessOutsideTheMountedHierarchy() throws {
        let tree = try FakeCgroupTree()
        var host = tree.host(own: "elsewhere")
        host.unifiedMountRoot = "/kubepods/pod1"
        #expect(message { try ContainerCgroup.prepare(limits: ResourceLimits.memoryOnly, containerID: "abc", host: host) }
            == "--memory needs this process's own cgroup, but /proc/self/cgroup places it outside the cgroup v2 hierarchy mounted at \(tree.root): run without --memory")
    }

    /// A write the kernel refuses: the error names file and value, and the
    /// half-made cgroup goes.
    @Test func aRefusedWriteRemovesTheCgroup() throws {
        let tree = try FakeCgroupTree(omitted: ["cpu.weight"])
        try tree.cgroup(ContainerCgroupTests.scope, delegated: ["cpu", "memory"])
        let limits = try ResourceLimits.parse(memory: "1g", cpuShares: "2048")
        let path = tree.path("\(ContainerCgroupTests.scope)/burrow-abc")
        #expect(message { try ContainerCgroup.prepare(limits: limits, containerID: "abc", host: tree.host(own: ContainerCgroupTests.scope)) }
            == "write 174 to \(path)/cpu.weight: No such file or directory")
        #expect(!tree.exists("\(ContainerCgroupTests.scope)/burrow-abc"))
    }

    /// A process left behind is killed (cgroup.kill) and the cgroup removed.
    @Test func removeKillsWhatIsLeft() throws {
        let tree = try FakeCgroupTree()
        try tree.cgroup(ContainerCgroupTests.scope, delegated: ["pids"], enabled: ["pids"])
        let cgroup = try #require(try ContainerCgroup.prepare(limits: ResourceLimits.parse(pidsLimit: "3"), containerID: "abc",
                                                             host: tree.host(own: ContainerCgroupTests.scope)))
        try tree.put("\(ContainerCgroupTests.scope)/burrow-abc", "cgroup.procs", "4242")
        try cgroup.remove()
        #expect(!tree.exists("\(ContainerCgroupTests.scope)/burrow-abc"))
        #expect(tree.removalAttempts.count > 1)
    }

    @Test func aCgroupThatCannotBeRemovedIsAnError() throws {
        let tree = try FakeCgroupTree()
        try tree.cgroup(ContainerCgroupTests.scope, delegated: ["pids"], enabled: ["pids"])
        var host = tree.host(own: ContainerCgroupTests.scope)
        host.removeCgroup = { _ in EACCES }
        let cgroup = try #require(try ContainerCgroup.prepare(limits: ResourceLimits.parse(pidsLimit: "3"), containerID: "abc", host: host))
        #expect(message { try cgroup.remove() } == "remove the container's cgroup \(cgroup.path): Permission denied")
    }
}

extension ResourceLimits {
    static var memoryOnly: ResourceLimits {
        var limits = ResourceLimits()
        limits.memory = 100 << 20
        return limits
    }
}

final class Calls: @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [String] = []
    func note(_ call: String) {
        lock.lock()
        calls.append(call)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return calls
    }
}

/// Removal on the real kernel, where this process may make a cgroup (root,
/// a writable v2 hierarchy): no controller is needed to hold processes.
struct ContainerCgroupKernelTests {
    static let hierarchy: String? = {
        guard getuid() == 0, let mount = CgroupHost.current().unifiedMount, access(mount, W_OK) == 0 else { return nil }
        return mount
    }()

    /// A process left in the cgroup is killed, and the cgroup removed.
    @Test(.enabled(if: hierarchy != nil, "needs root and a writable cgroup v2 hierarchy"))
    func removeKillsWhatIsLeftOnTheRealKernel() throws {
        let path = "\(try #require(ContainerCgroupKernelTests.hierarchy))/burrow-test-\(UUID().uuidString.prefix(8).lowercased())"
        try FileSystem.makeDirectory(path)
        let fd = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        var plan = LaunchPlan(namespaces: [])
        plan.process = LaunchPlan.Process(arguments: ["/bin/sleep", "60"], environment: [])
        plan.stdinFromNull = true
        let child = try Launcher.clone([], cgroup: fd.rawValue).run(plan, mapping: nil)
        #expect(CgroupDelegation.words("\(path)/cgroup.procs") == [String(child.pid)])
        try ContainerCgroup.remove(path: path)
        #expect(!FileSystem.exists(path))
        #expect(try Launcher.wait(child) == 128 + SIGKILL)
    }
}
