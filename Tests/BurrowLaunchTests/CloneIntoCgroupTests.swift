@testable import BurrowLaunch
import BurrowSystem
import Foundation
import Glibc
import Testing

/// `Launcher.clone(_:cgroup:)`: the child starts in the cgroup it is given.
struct CloneIntoCgroupTests {
    /// A child without namespaces that runs `script` with /bin/sh and exits.
    func run(_ script: String, cgroup: Int32?) throws -> Int32 {
        var plan = LaunchPlan(namespaces: [])
        plan.process = LaunchPlan.Process(arguments: ["/bin/sh", "-c", script], environment: ["PATH=/usr/bin:/bin"])
        plan.stdinFromNull = true
        let child = try Launcher.clone(plan.namespaces, cgroup: cgroup).run(plan, mapping: nil)
        return try Launcher.wait(child)
    }

    func scratch() throws -> String {
        let path = "\(NSTemporaryDirectory())/burrow-clone-cgroup-\(UUID().uuidString.prefix(8))"
        try FileSystem.makeDirectory(path, mode: 0o755)
        return path
    }

    func openDirectory(_ path: String) throws -> Int32 {
        try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC).release()
    }

    /// clone3 refuses a directory that is not a cgroup (as a kernel before
    /// 5.7 refuses CLONE_INTO_CGROUP): the child is cloned all the same and
    /// its pid written to the directory's cgroup.procs, before it runs.
    @Test func whereCloneIntoCgroupIsRefusedThePidGoesToCgroupProcs() throws {
        let directory = try scratch()
        defer { try? FileSystem.removeTree(directory) }
        try FileSystem.writeFile("\(directory)/cgroup.procs", [])
        let fd = try openDirectory(directory)
        defer { close(fd) }
        #expect(try run("echo $$ > \(directory)/pid", cgroup: fd) == 0)
        let written = try FileSystem.readText("\(directory)/cgroup.procs")
        let pid = try FileSystem.readText("\(directory)/pid").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!written.isEmpty && written == pid, "cgroup.procs holds \(written), the child was \(pid)")
    }

    /// A cgroup that takes the child in neither way: an error that says so
    /// (the child is killed and reaped).
    @Test func aCgroupThatRefusesTheChildIsAnErrorAndLeavesNoChild() throws {
        let directory = try scratch()
        defer { try? FileSystem.removeTree(directory) }
        let fd = try openDirectory(directory)
        defer { close(fd) }
        do {
            _ = try Launcher.clone([], cgroup: fd)
            Issue.record("a directory without cgroup.procs took the child")
        } catch let error as SystemError {
            #expect(error.errno == ENOENT)
            #expect(error.description == "put the container's first process in its cgroup: No such file or directory")
        }
    }

    /// The real thing, where this process may make a cgroup: the v2
    /// hierarchy as root (CI runs the tests as root; on this project's
    /// hybrid hosts the v2 hierarchy holds no controllers, but it does hold
    /// processes).
    static let v2Hierarchy: String? = {
        guard getuid() == 0 else { return nil }
        for path in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] where HostSystem.filesystemType(of: path) == 0x6367_7270 {
            return access(path, W_OK) == 0 ? path : nil
        }
        return nil
    }()

    @Test(.enabled(if: v2Hierarchy != nil, "needs root and a writable cgroup v2 hierarchy"))
    func theChildStartsInTheCgroup() throws {
        let hierarchy = try #require(CloneIntoCgroupTests.v2Hierarchy)
        let name = "burrow-test-\(UUID().uuidString.prefix(8).lowercased())"
        let directory = "\(hierarchy)/\(name)"
        try FileSystem.makeDirectory(directory)
        defer { rmdir(directory) }
        let output = try scratch()
        defer { try? FileSystem.removeTree(output) }
        let fd = try openDirectory(directory)
        defer { close(fd) }
        #expect(try run("cat /proc/self/cgroup > \(output)/cgroup", cgroup: fd) == 0)
        let lines = try FileSystem.readText("\(output)/cgroup").split(separator: "\n")
        #expect(lines.contains("0::/\(name)"), "\(lines)")
    }
}
