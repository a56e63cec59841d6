import BurrowSystem
import CBurrowSys
import Glibc

/// The user's long-lived user namespace, one per id mapping, held open by a
/// sleeping `burrow __keeper` process (podman keeps its rootless namespace
/// the same way, in its pause process). Writing a map with subordinate ids
/// takes the setuid newuidmap and newgidmap, two execs that cost more than
/// everything else a container start does; joining an existing namespace
/// with setns costs microseconds.
public enum UserNamespaceKeeper {
    /// True once this process has joined a keeper's namespace.
    nonisolated(unsafe) public private(set) static var joined = false

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Joins the namespace for `mapping`, starting its keeper first when
    /// there is none. Afterwards this process is root in that namespace.
    public static func join(mapping: UserNamespaceMapping, runtimeDirectory: String) throws {
        guard !joined else { return }
        guard threadCount() == 1 else { throw Unavailable(description: "setns needs a single-threaded process") }
        try FileSystem.makeDirectories(runtimeDirectory, mode: 0o700)
        // /tmp is shared: use the directory only if it is ours alone.
        guard let st = try FileSystem.linkStatus(runtimeDirectory), st.st_uid == getuid(), st.st_mode & 0o077 == 0,
              st.st_mode & S_IFMT == S_IFDIR else {
            throw Unavailable(description: "\(runtimeDirectory) is not a private directory of this user")
        }
        let key = fingerprint(mapping)
        let pidFile = "\(runtimeDirectory)/userns-\(key).pid"
        let lock = try FileLock(path: "\(runtimeDirectory)/userns-\(key).lock", mode: .exclusive)
        defer { _ = lock }
        let fd: Int32
        if let existing = open(pidFile: pidFile, mapping: mapping) {
            fd = existing
        } else {
            fd = try start(mapping: mapping, pidFile: pidFile)
        }
        defer { close(fd) }
        // A process started by one that joined is in the namespace already.
        var target = stat(), mine = stat()
        if fstat(fd, &target) == 0, stat("/proc/self/ns/user", &mine) == 0, target.st_ino == mine.st_ino, target.st_dev == mine.st_dev {
            joined = true
            return
        }
        try syscall("setns", "the user namespace") { bsys_setns_user(fd) }
        joined = true
    }

    /// The pid of the keeper holding the namespace for `mapping`, if one runs.
    public static func running(mapping: UserNamespaceMapping, runtimeDirectory: String) -> Int32? {
        let pidFile = "\(runtimeDirectory)/userns-\(fingerprint(mapping)).pid"
        guard let fd = open(pidFile: pidFile, mapping: mapping) else { return nil }
        close(fd)
        return (try? FileSystem.readText(pidFile))?.split(separator: " ").first.flatMap { Int32($0) }
    }

    /// The keeper's namespace, when its pid file names a live keeper whose
    /// maps are still the ones wanted.
    static func open(pidFile: String, mapping: UserNamespaceMapping) -> Int32? {
        guard let text = try? FileSystem.readText(pidFile) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count == 2, let pid = Int32(fields[0]), startTime(of: pid) == String(fields[1]) else { return nil }
        guard let uidMap = try? FileSystem.readText("/proc/\(pid)/uid_map"), let gidMap = try? FileSystem.readText("/proc/\(pid)/gid_map"),
              normalize(uidMap) == mapping.uids.map(\.description), normalize(gidMap) == mapping.gids.map(\.description) else { return nil }
        let fd = Glibc.open("/proc/\(pid)/ns/user", O_RDONLY | O_CLOEXEC)
        return fd >= 0 ? fd : nil
    }

    static func start(mapping: UserNamespaceMapping, pidFile: String) throws -> Int32 {
        var plan = LaunchPlan(namespaces: [.user])
        var process = LaunchPlan.Process(arguments: [HostSystem.executablePath, "__keeper", pidFile], environment: ["PATH=/usr/bin:/bin"])
        process.workingDirectory = "/"
        plan.process = process
        plan.detachStandardStreams = true
        plan.newSession = true
        plan.dieWithParent = false
        // The namespace is whole once its maps are written: it is joined
        // while the keeper is still on its way to exec, not after.
        let child = try Launcher.clone(plan.namespaces)
        try child.start(plan, mapping: mapping)
        child.leave()
        let fd = Glibc.open("/proc/\(child.pid)/ns/user", O_RDONLY | O_CLOEXEC)
        guard fd >= 0, let start = startTime(of: child.pid) else {
            if fd >= 0 { close(fd) }
            throw Unavailable(description: "the namespace keeper exited at once")
        }
        try FileSystem.writeAtomically(pidFile, Array("\(child.pid) \(start)".utf8), mode: 0o600)
        return fd
    }

    /// The process's start time: with the pid, it names one process even after pids wrap around.
    static func startTime(of pid: Int32) -> String? {
        ProcessStat.read(pid).map { String($0.startTime) }
    }

    static func normalize(_ map: String) -> [String] {
        map.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
    }

    static func fingerprint(_ mapping: UserNamespaceMapping) -> String {
        let text = (mapping.uids.map(\.description) + ["/"] + mapping.gids.map(\.description)).joined(separator: ",")
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    static func threadCount() -> Int {
        guard let status = try? FileSystem.readText("/proc/self/status") else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("Threads:") {
            return Int(String(line.dropFirst(8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        return 0
    }

    /// The body of `burrow __keeper PIDFILE`: sleep, and leave once the pid
    /// file no longer names this process (removed with its directory, or
    /// taken over by a newer keeper), so no keeper outlives its purpose.
    public static func hold(pidFile: String) -> Never {
        let me = String(getpid())
        while true {
            sleep(60)
            let named = (try? FileSystem.readText(pidFile))?.split(separator: " ").first.map(String.init)
            if named != me { exit(0) }
        }
    }

    /// `${XDG_RUNTIME_DIR}/burrow`, or /tmp/burrow-UID when there is none:
    /// a private directory for pid files and locks.
    public static func runtimeDirectory(uid: UInt32) -> String {
        if let runtime = environment("XDG_RUNTIME_DIR"), FileSystem.isDirectory(runtime), access(runtime, W_OK) == 0 {
            return "\(runtime)/burrow"
        }
        return "/tmp/burrow-\(uid)"
    }
}
