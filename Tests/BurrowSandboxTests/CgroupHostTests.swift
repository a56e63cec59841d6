@testable import BurrowSandbox
import Glibc
import Testing

/// Where cgroup v2 is and where this process is in it, from the /proc files.
struct CgroupHostTests {
    static let hybrid = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        39 31 0:36 / /sys/fs/cgroup/pids rw,nosuid shared:9 - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
        67 31 0:40 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
        """
    static let unified = """
        22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
        27 22 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        """
    /// A container's view: its own part of the hierarchy, bound at /sys/fs/cgroup, plus one more mount elsewhere.
    static let container = """
        500 400 0:25 /kubepods/pod1 /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw
        501 400 0:25 / /mnt/with\\040space rw - cgroup2 cgroup rw
        """

    @Test func mountsOfAHybridHost() throws {
        let mounts = CgroupHost.mounts(mountinfo: CgroupHostTests.hybrid)
        #expect(mounts.unified?.point == "/sys/fs/cgroup/unified" && mounts.unified?.root == "/")
        #expect(mounts.legacyControllers == ["cpu", "cpuacct", "memory", "pids"])
    }

    @Test func mountsOfAUnifiedHost() throws {
        let mounts = CgroupHost.mounts(mountinfo: CgroupHostTests.unified)
        #expect(mounts.unified?.point == "/sys/fs/cgroup" && mounts.legacyControllers.isEmpty)
        let none = CgroupHost.mounts(mountinfo: "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")
        #expect(none.unified == nil && none.legacyControllers.isEmpty)
    }

    @Test func mountsInAContainer() throws {
        let mounts = CgroupHost.mounts(mountinfo: CgroupHostTests.container)
        #expect(mounts.unified?.point == "/sys/fs/cgroup" && mounts.unified?.root == "/kubepods/pod1")
        let other = CgroupHost.mounts(mountinfo: String(CgroupHostTests.container.split(separator: "\n")[1]))
        #expect(other.unified?.point == "/mnt/with space")
    }

    @Test(arguments: [
        ("12:pids:/user.slice\n0::/user.slice/user-1000.slice/session-3.scope\n", "/user.slice/user-1000.slice/session-3.scope"),
        ("0::/\n", "/"),
        ("10:hugetlb:/\n4:memory:/process_api/d164\n0::/\n", "/"),
        ("4:memory:/x\n", nil),
        ("0::relative\n", nil),
        ("", nil),
    ] as [(String, String?)])
    func ownPath(text: String, path: String?) {
        #expect(CgroupHost.ownPath(procSelfCgroup: text) == path)
    }

    @Test(arguments: [
        ("/sys/fs/cgroup", "/", "/user.slice/a.scope", "/sys/fs/cgroup/user.slice/a.scope"),
        ("/sys/fs/cgroup", "/", "/", "/sys/fs/cgroup"),
        ("/sys/fs/cgroup/unified", "/", "/", "/sys/fs/cgroup/unified"),
        ("/sys/fs/cgroup", "/kubepods/pod1", "/kubepods/pod1/c1", "/sys/fs/cgroup/c1"),
        ("/sys/fs/cgroup", "/kubepods/pod1", "/kubepods/pod1", "/sys/fs/cgroup"),
        ("/sys/fs/cgroup", "/kubepods/pod1", "/kubepods/pod10", nil),
        ("/sys/fs/cgroup", "/kubepods/pod1", "/other", nil),
        ("/sys/fs/cgroup", "/", "/../..", nil),
    ] as [(String, String, String, String?)])
    func ownDirectory(mount: String, root: String, own: String, directory: String?) {
        let host = CgroupHost(unifiedMount: mount, unifiedMountRoot: root, ownPath: own)
        #expect(host.ownDirectory == directory)
    }

    @Test func theParentOfThisProcess() {
        #expect(CgroupHost.parentPID(getpid()) == getppid())
        #expect(CgroupHost.parentPID(-5) == nil)
    }

    /// Whether a process is this one's own: a descendant, however deep.
    @Test func descendants() {
        let tree: [Int32: Int32] = [20: 10, 30: 20, 40: 1, 10: 1]
        let host = CgroupHost(unifiedMount: nil, ownPath: nil, pid: 10, parentPID: { tree[$0] })
        #expect(CgroupDelegation.descends(10, from: 10, host: host))
        #expect(CgroupDelegation.descends(30, from: 10, host: host))
        #expect(!CgroupDelegation.descends(40, from: 10, host: host))
        #expect(!CgroupDelegation.descends(99, from: 10, host: host))
    }
}
