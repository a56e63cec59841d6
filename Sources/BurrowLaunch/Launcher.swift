import BurrowSystem
import CBurrowLaunch
import Glibc

/// The parent side of a launch: clone, write the id maps, let the child run
/// its plan, and report the first step that failed.
public enum Launcher {
    public struct Child: Sendable {
        public let pid: Int32
        public let pidfd: Int32
        /// Non-fatal notes from the child (a refused procfs replaced by a bind).
        public let warnings: [String]
    }

    /// A child cloned into its namespaces, waiting for its plan: the caller
    /// decides the plan while the kernel makes the child's network namespace.
    public final class Pending {
        private var child: burrow_child
        private let namespaces: Set<LaunchPlan.Namespace>
        private var plan: LaunchPlan?
        private var settled = false

        /// The socket the child sends its TAP device over, when it makes one.
        private var tapSocket: Int32

        fileprivate init(child: burrow_child, namespaces: Set<LaunchPlan.Namespace>, tapSocket: Int32) {
            self.child = child
            self.namespaces = namespaces
            self.tapSocket = tapSocket
        }

        deinit { if tapSocket >= 0 { close(tapSocket) } }

        /// The TAP device the child made in its network namespace, with
        /// that namespace and its user namespace; the caller closes them.
        public func receiveNetwork() throws -> NetworkEnd {
            precondition(tapSocket >= 0, "receiveNetwork() of a child cloned without a TAP device")
            var fds: [Int32] = [-1, -1, -1]
            let rc = burrow_tap_receive(tapSocket, &fds)
            close(tapSocket)
            tapSocket = -1
            if rc == -ENOENT || rc == -EACCES || rc == -EPERM {
                throw SystemError("make the container's network device (/dev/net/tun) for --network slirp; run with --network host or none where the device is not available",
                                  errno: -rc)
            }
            if rc < 0 { throw SystemError("make the container's network device", errno: -rc) }
            return NetworkEnd(device: fds[0], network: fds[1], user: fds[2])
        }

        public var pid: Int32 { child.pid }

        /// Writes the id maps, sends the plan, and returns once the child has
        /// exec'd (or, for a plan without a process, once its steps ran).
        public func run(_ plan: LaunchPlan, mapping: UserNamespaceMapping?) throws -> Child {
            try start(plan, mapping: mapping)
            return try finish()
        }

        /// Writes the id maps and sends the plan, which the child runs while
        /// the caller goes on with its own work until `finish`.
        public func start(_ plan: LaunchPlan, mapping: UserNamespaceMapping?) throws {
            precondition(!settled && self.plan == nil)
            precondition(plan.namespaces == namespaces, "the plan asks for other namespaces than the child was cloned into")
            self.plan = plan
            do {
                if let mapping, namespaces.contains(.user) {
                    try IDMapWriter.write(mapping, pid: child.pid)
                }
                let bytes = plan.encoded()
                let rc = bytes.withUnsafeBytes { burrow_launch_send(&child, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), $0.count) }
                if rc == -E2BIG { throw BurrowError.invalidArgument("the container's command line and environment are too large to start it") }
                if rc < 0 { throw SystemError("send the launch plan to the child", errno: -rc) }
            } catch {
                abandon()
                throw error
            }
        }

        /// Returns once the child has exec'd; throws the first step that failed.
        public func finish() throws -> Child {
            guard let plan else { preconditionFailure("finish() before start()") }
            precondition(!settled)
            settled = true
            var warnings: [String] = []
            var report = burrow_report()
            while true {
                let n = withUnsafeMutableBytes(of: &report) { Glibc.read(child.report_fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n != MemoryLayout<burrow_report>.size { break }
                let phase = LaunchFailure.phase(report.step)
                let failure = LaunchFailure(phase: phase, label: LaunchFailure.label(phase, plan: plan), errno: report.error)
                if report.kind == 2 {
                    warnings.append(Launcher.warningText(failure))
                    continue
                }
                close(child.report_fd)
                Launcher.abandon(child)
                throw failure
            }
            close(child.report_fd)
            return Child(pid: child.pid, pidfd: child.pidfd, warnings: warnings)
        }

        /// Lets a started child go on alone: neither its exec nor its exit
        /// is waited for (a long-lived helper whose namespaces are all the
        /// caller needs). It stays this process's child until this process ends.
        public func leave() {
            precondition(plan != nil && !settled, "leave() before start()")
            settled = true
            close(child.report_fd)
            if child.pidfd >= 0 { close(child.pidfd) }
        }

        /// Kills the waiting child (the caller's own preparation failed).
        public func abandon() {
            guard !settled else { return }
            settled = true
            if child.sync_fd >= 0 { close(child.sync_fd) }
            close(child.report_fd)
            Launcher.abandon(child)
        }
    }

    /// Clones a child into `namespaces`; it waits for its plan (`Pending.start`).
    /// With `cgroup`, an open cgroup v2 directory, the child starts in that
    /// cgroup (kernel 5.7's CLONE_INTO_CGROUP, or its pid written to the
    /// cgroup's cgroup.procs before it gets its plan).
    /// With `tap` (and a network namespace) the child makes that TAP device
    /// there; `Pending.receiveNetwork` gets it.
    public static func clone(_ namespaces: Set<LaunchPlan.Namespace>, cgroup: Int32? = nil, tap: TapDevice? = nil) throws -> Pending {
        var child = burrow_child()
        var sockets: (mine: Int32, child: Int32) = (-1, -1)
        var request = burrow_tap()
        if let tap, namespaces.contains(.network) {
            sockets = try UnixSocket.pair()
            request = tap.request(socket: sockets.child)
        }
        let rc = sockets.child >= 0
            ? burrow_launch_clone(LaunchPlan.cloneFlags(namespaces), cgroup ?? -1, &request, &child)
            : burrow_launch_clone(LaunchPlan.cloneFlags(namespaces), cgroup ?? -1, nil, &child)
        if sockets.child >= 0 { close(sockets.child) }
        if rc < 0 && sockets.mine >= 0 { close(sockets.mine) }
        if rc < 0 && child.cgroup_error != 0 { throw SystemError("put the container's first process in its cgroup", errno: child.cgroup_error) }
        if rc < 0 { throw cloneFailure(errno: -rc, namespaces: namespaces) }
        return Pending(child: child, namespaces: namespaces, tapSocket: sockets.mine)
    }

    /// Starts `plan`; returns once the child has exec'd (or, for a plan
    /// without a process, once its steps ran).
    public static func start(_ plan: LaunchPlan, mapping: UserNamespaceMapping?) throws -> Child {
        try clone(plan.namespaces).run(plan, mapping: mapping)
    }

    /// Waits for the child while forwarding the signals this process gets,
    /// and returns its exit code (128+N when signal N ended it).
    public static func wait(_ child: Child) throws -> Int32 {
        var status: Int32 = 0
        let rc = burrow_wait_forwarding(child.pid, child.pidfd, &status)
        if child.pidfd >= 0 { close(child.pidfd) }
        if rc < 0 { throw SystemError("wait", errno: -rc) }
        return exitCode(status: status)
    }

    /// A wait status as a shell reports it: the exit code, or 128+N for signal N.
    public static func exitCode(status: Int32) -> Int32 {
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    fileprivate static func abandon(_ child: burrow_child) {
        var status: Int32 = 0
        kill(child.pid, SIGKILL)
        _ = burrow_wait_forwarding(child.pid, child.pidfd, &status)
        if child.pidfd >= 0 { close(child.pidfd) }
    }

    fileprivate static func warningText(_ failure: LaunchFailure) -> String {
        if failure.label.hasPrefix("mount proc") {
            return "the kernel refused a new /proc (\(failure.reason)): the host's /proc is bound instead, so the container sees every host process"
        }
        if failure.label.hasPrefix("mount sysfs") {
            return "the kernel refused a new /sys (\(failure.reason)): the host's /sys is bound read-only instead"
        }
        return failure.description
    }

    /// clone() refuses a user namespace for a handful of reasons, each with
    /// its own sysctl; name the one that applies.
    static func cloneFailure(errno error: Int32, namespaces: Set<LaunchPlan.Namespace>) -> Error {
        guard namespaces.contains(.user) else { return SystemError("clone", errno: error) }
        if HostSystem.readSetting("/proc/sys/kernel/unprivileged_userns_clone") == "0" {
            return BurrowError.unsupported("user namespaces are disabled for unprivileged users (sysctl kernel.unprivileged_userns_clone=0): ask an administrator to set it to 1")
        }
        if HostSystem.readSetting("/proc/sys/user/max_user_namespaces") == "0" {
            return BurrowError.unsupported("user namespaces are disabled (sysctl user.max_user_namespaces=0): ask an administrator to set it to 15000 or more")
        }
        if HostSystem.readSetting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1" {
            return BurrowError.unsupported("AppArmor forbids unprivileged user namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns=1): ask an administrator for an AppArmor profile that allows burrow, or to set it to 0")
        }
        if error == ENOSPC || error == EUSERS {
            let limit = HostSystem.readSetting("/proc/sys/user/max_user_namespaces") ?? "?"
            return BurrowError.unsupported("no more user namespaces may be created (user.max_user_namespaces=\(limit)): raise the sysctl, or stop some containers")
        }
        if error == EPERM || error == EINVAL {
            return BurrowError.unsupported("the kernel refused to create a user namespace (\(String(cString: strerror(error)))): check the sysctls user.max_user_namespaces and kernel.unprivileged_userns_clone, or whether a seccomp profile around burrow forbids unshare")
        }
        return SystemError("clone", errno: error)
    }
}
