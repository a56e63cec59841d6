@testable import BurrowSandbox
import BurrowSystem
import Foundation
import Glibc

/// A cgroup v2 hierarchy in a temporary directory, where the test plays the
/// kernel: a new cgroup gets the interface files of the controllers its
/// parent enables, and a cgroup with a process left in it cannot be removed
/// (until something writes 1 to its cgroup.kill).
final class FakeCgroupTree: @unchecked Sendable {
    /// Plays /sys/fs/cgroup.
    let root: String
    let swapAccounting: Bool
    /// Interface files the fake kernel leaves out of new cgroups.
    let omitted: Set<String>
    private let lock = NSLock()
    private var removals: [String] = []

    static let allControllers = ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"]

    init(offered: [String] = FakeCgroupTree.allControllers, swapAccounting: Bool = true, omitted: Set<String> = [], cpus: String = "0-3") throws {
        root = "\(NSTemporaryDirectory())/burrow-cgroup-tree-\(UUID().uuidString.prefix(8))"
        self.swapAccounting = swapAccounting
        self.omitted = omitted
        try FileSystem.makeDirectory(root, mode: 0o755)
        try put("", "cgroup.controllers", offered.joined(separator: " "))
        try put("", "cgroup.subtree_control", "")
        try put("", "cgroup.procs", "")
        try put("", "cpuset.cpus.effective", cpus)
    }

    deinit { try? FileSystem.removeTree(root) }

    func put(_ cgroup: String, _ file: String, _ text: String) throws {
        try FileSystem.writeFile(path(cgroup, file), Array(text.utf8))
    }

    func read(_ cgroup: String, _ file: String) -> String? {
        try? FileSystem.readText(path(cgroup, file))
    }

    func exists(_ cgroup: String, _ file: String = "") -> Bool { FileSystem.exists(path(cgroup, file)) }

    func path(_ cgroup: String, _ file: String = "") -> String {
        [root, cgroup, file].filter { !$0.isEmpty }.joined(separator: "/")
    }

    /// The cgroups (directories) directly in `cgroup`.
    func children(_ cgroup: String) -> [String] {
        ((try? FileSystem.entries(of: path(cgroup))) ?? []).filter { FileSystem.isDirectory(path(cgroup, $0)) }.sorted()
    }

    func enabled(_ cgroup: String) -> [String] {
        (read(cgroup, "cgroup.subtree_control") ?? "").split(separator: " ").map { $0.hasPrefix("+") ? String($0.dropFirst()) : String($0) }
    }

    /// A cgroup made as systemd would, each level enabling the controllers
    /// the next one gets: `delegated` in the last, which holds `procs`.
    func cgroup(_ relative: String, delegated: [String], procs: [Int32] = [], enabled: [String] = []) throws {
        var parent = ""
        for component in relative.split(separator: "/") {
            try put(parent, "cgroup.subtree_control", delegated.joined(separator: " "))
            let child = parent.isEmpty ? String(component) : "\(parent)/\(component)"
            if !exists(child) { try makeCgroup(path(child)) }
            parent = child
        }
        try put(relative, "cgroup.subtree_control", enabled.joined(separator: " "))
        try put(relative, "cgroup.procs", procs.map(String.init).joined(separator: "\n"))
    }

    /// mkdir, then what the kernel adds.
    func makeCgroup(_ directory: String) throws {
        try syscall("mkdir", directory) { mkdir(directory, 0o755) }
        let parent = String(directory[..<directory.lastIndex(of: "/")!])
        let controllers = ((try? FileSystem.readText("\(parent)/cgroup.subtree_control")) ?? "").split(separator: " ")
            .map { $0.hasPrefix("+") ? String($0.dropFirst()) : String($0) }
        var files = ["cgroup.procs": "", "cgroup.controllers": controllers.joined(separator: " "), "cgroup.subtree_control": "",
                     "cgroup.type": "domain", "cgroup.kill": "", "cgroup.events": "populated 0\nfrozen 0\n"]
        for controller in controllers {
            switch controller {
            case "memory":
                files["memory.max"] = "max"
                if swapAccounting { files["memory.swap.max"] = "max" }
            case "cpu":
                files["cpu.max"] = "max 100000"
                files["cpu.weight"] = "100"
            case "cpuset":
                files["cpuset.cpus"] = ""
                files["cpuset.cpus.effective"] = (try? FileSystem.readText("\(parent)/cpuset.cpus.effective")) ?? ""
            case "pids":
                files["pids.max"] = "max"
            default:
                break
            }
        }
        for (name, text) in files where !omitted.contains(name) {
            try FileSystem.writeFile("\(directory)/\(name)", Array(text.utf8))
        }
    }

    /// rmdir: EBUSY while cgroup.procs names a process nothing killed.
    func removeCgroup(_ directory: String) -> Int32 {
        lock.lock()
        removals.append(directory)
        lock.unlock()
        guard FileSystem.isDirectory(directory) else { return ENOENT }
        let procs = ((try? FileSystem.readText("\(directory)/cgroup.procs")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let killed = ((try? FileSystem.readText("\(directory)/cgroup.kill")) ?? "") == "1"
        if !procs.isEmpty && !killed { return EBUSY }
        if !children(String(directory.dropFirst(root.count + 1))).isEmpty { return EBUSY }
        do {
            try FileSystem.removeTree(directory)
            return 0
        } catch let error as SystemError {
            return error.errno
        } catch {
            return EIO
        }
    }

    var removalAttempts: [String] {
        lock.lock()
        defer { lock.unlock() }
        return removals
    }

    /// This process's view: its own cgroup is `own`, its pid `pid`;
    /// `parents` is the process tree; the cgroups in `unwritable` refuse writes.
    func host(own: String, pid: Int32 = 1000, parents: [Int32: Int32] = [:], unwritable: Set<String> = [],
              legacy: Set<String> = []) -> CgroupHost {
        let root = self.root
        let refused = Set(unwritable.map { [root, $0].filter { !$0.isEmpty }.joined(separator: "/") })
        return CgroupHost(unifiedMount: root, legacyControllers: legacy, ownPath: "/" + own, pid: pid,
                          parentPID: { parents[$0] },
                          isWritable: { path in !refused.contains(path) && !refused.contains(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])) },
                          makeCgroup: { try self.makeCgroup($0) },
                          removeCgroup: { self.removeCgroup($0) })
    }
}
