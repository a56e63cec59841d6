import BurrowSystem
import Glibc

/// Where this process stands among the host's cgroups, and the two calls
/// whose effect the kernel decides (making and removing a cgroup). Read
/// from the host by `current()`; tests make one up around a directory tree
/// in which they play the kernel's part.
public struct CgroupHost: Sendable {
    /// Where the cgroup v2 hierarchy is mounted; nil when it is not.
    public var unifiedMount: String?
    /// The path in the hierarchy that is mounted there (mountinfo's root
    /// field; "/" but inside some containers).
    public var unifiedMountRoot: String
    /// The controllers mounted on cgroup v1 hierarchies (a hybrid host has
    /// some and v2 too; those are missing from v2).
    public var legacyControllers: Set<String>
    /// This process's cgroup in the v2 hierarchy: the "0::" line of /proc/self/cgroup.
    public var ownPath: String?
    public var pid: Int32
    /// A process's parent, to tell this process's own children from others.
    public var parentPID: @Sendable (Int32) -> Int32?
    public var isWritable: @Sendable (String) -> Bool
    /// mkdir (EEXIST when it exists): the kernel fills the new cgroup with its interface files.
    public var makeCgroup: @Sendable (String) throws -> Void
    /// rmdir: 0, or the errno (EBUSY while a process is left in it).
    public var removeCgroup: @Sendable (String) -> Int32

    public init(unifiedMount: String?, unifiedMountRoot: String = "/", legacyControllers: Set<String> = [], ownPath: String?,
                pid: Int32 = getpid(), parentPID: @escaping @Sendable (Int32) -> Int32? = CgroupHost.parentPID,
                isWritable: @escaping @Sendable (String) -> Bool = { access($0, W_OK) == 0 },
                makeCgroup: @escaping @Sendable (String) throws -> Void = { path in try syscall("mkdir", path) { mkdir(path, 0o755) } },
                removeCgroup: @escaping @Sendable (String) -> Int32 = { rmdir($0) == 0 ? 0 : errno }) {
        self.unifiedMount = unifiedMount
        self.unifiedMountRoot = unifiedMountRoot
        self.legacyControllers = legacyControllers
        self.ownPath = ownPath
        self.pid = pid
        self.parentPID = parentPID
        self.isWritable = isWritable
        self.makeCgroup = makeCgroup
        self.removeCgroup = removeCgroup
    }

    /// This process, from /proc/self/mountinfo and /proc/self/cgroup.
    public static func current() -> CgroupHost {
        let mounts = CgroupHost.mounts(mountinfo: (try? FileSystem.readText("/proc/self/mountinfo")) ?? "")
        return CgroupHost(unifiedMount: mounts.unified?.point, unifiedMountRoot: mounts.unified?.root ?? "/",
                          legacyControllers: mounts.legacyControllers,
                          ownPath: CgroupHost.ownPath(procSelfCgroup: (try? FileSystem.readText("/proc/self/cgroup")) ?? ""))
    }

    /// The v1 controllers a mount can carry (its superblock options name them).
    static let legacyControllerNames: Set<String> = [
        "blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory", "misc", "net_cls", "net_prio",
        "perf_event", "pids", "rdma",
    ]

    /// The cgroup2 mount (the usual places first) and the controllers on v1 mounts.
    public static func mounts(mountinfo: String) -> (unified: (point: String, root: String)?, legacyControllers: Set<String>) {
        var unified: [(point: String, root: String)] = []
        var legacy = Set<String>()
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard let dash = fields.firstIndex(of: "-"), dash >= 5, fields.count > dash + 3 else { continue }
            switch fields[dash + 1] {
            case "cgroup2":
                unified.append((unescape(fields[4]), unescape(fields[3])))
            case "cgroup":
                let options = fields[dash + 3].split(separator: ",").map(String.init)
                legacy.formUnion(options.filter { legacyControllerNames.contains($0) })
            default:
                break
            }
        }
        let preferred = unified.first { $0.point == "/sys/fs/cgroup" } ?? unified.first { $0.point == "/sys/fs/cgroup/unified" } ?? unified.first
        return (preferred, legacy)
    }

    /// The "0::" line of /proc/self/cgroup: the process's cgroup in v2.
    public static func ownPath(procSelfCgroup text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            let path = String(line.dropFirst(3))
            return path.hasPrefix("/") ? path : nil
        }
        return nil
    }

    /// mountinfo writes a space, tab, newline or backslash as \ and three octal digits.
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes: [UInt8] = []
        let source = Array(text.utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "\\"), index + 3 < source.count,
               let value = UInt8(String(decoding: source[(index + 1)...(index + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The parent in /proc/PID/stat (after the command's closing parenthesis: state, then ppid).
    @Sendable public static func parentPID(_ pid: Int32) -> Int32? {
        guard let text = try? FileSystem.readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// The directory of this process's own cgroup, when it is in the mounted part of the hierarchy.
    public var ownDirectory: String? {
        guard let mount = unifiedMount, let own = ownPath, !own.split(separator: "/").contains("..") else { return nil }
        let root = unifiedMountRoot == "/" ? "" : unifiedMountRoot
        guard own == root || own.hasPrefix(root + "/") || root.isEmpty else { return nil }
        let inside = String(own.dropFirst(root.count))
        return inside.isEmpty || inside == "/" ? mount : (mount == "/" ? "" : mount) + inside
    }
}
