import BurrowStore
import BurrowSystem
import CBurrowSys
import Glibc

/// What commands other than the monitor do to a running container: reach
/// its user namespace, signal its PID 1, wait for its end.
public struct ContainerAccess {
    public let store: Store

    public init(store: Store) { self.store = store }

    /// Enters the user namespace the container's processes are in, as root
    /// there: the monitor's (the user's standing namespace, with subordinate
    /// ids), then the container's own when it has one. Processes of
    /// subordinate ids can then be signalled and their namespaces joined.
    /// This process must have one thread.
    public func enterUserNamespace(of record: ContainerRecord) throws {
        for process in [record.monitor, record.process].compactMap({ $0 }) where process.isAlive {
            try join(process.pid)
        }
    }

    private func join(_ pid: Int32) throws {
        let path = "/proc/\(pid)/ns/user"
        var target = stat(), mine = stat()
        guard stat(path, &target) == 0, stat("/proc/self/ns/user", &mine) == 0 else { return }
        if target.st_ino == mine.st_ino && target.st_dev == mine.st_dev { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        // A process of another id whose namespace the one before already was.
        if fd < 0 { return }
        defer { close(fd) }
        try syscall("enter the user namespace of", "pid \(pid)") { bsys_setns_user(fd) }
    }

    /// Sends `signal` to the container's PID 1, if it still is the process the record names.
    public func signal(_ record: ContainerRecord, _ signal: Int32) throws {
        guard record.isRunning, let process = record.process else {
            throw BurrowError.conflict("container \(record.name) is not running")
        }
        let fd = bsys_pidfd_open(process.pid)
        guard fd >= 0 else { throw BurrowError.conflict("container \(record.name) is not running") }
        defer { close(fd) }
        // Opened first, checked after: the descriptor names this process for good.
        guard process.isAlive else { throw BurrowError.conflict("container \(record.name) is not running") }
        // A PID 1 of the user's own id takes the signal as it is; one of a
        // subordinate id, from root of its namespace only. This process stays
        // in its own namespace when it can: it may start a monitor next.
        if bsys_pidfd_send_signal(fd, signal) == 0 { return }
        guard errno == EPERM else { throw SystemError("send \(SignalNames.name(signal)) to the container's process", path: "pid \(process.pid)", errno: errno) }
        try enterUserNamespace(of: record)
        try syscall("send \(SignalNames.name(signal)) to the container's process", "pid \(process.pid)") { bsys_pidfd_send_signal(fd, signal) }
    }

    /// Waits until the container is no longer running, or `timeout` seconds
    /// pass (nil: as long as it takes). Returns its record as it is then.
    public func waitForEnd(_ id: String, timeout: Double?) throws -> ContainerRecord? {
        let deadline = timeout.map { Timestamp.monotonicSeconds() + $0 }
        while true {
            guard let record = try store.currentContainer(id) else { return nil }
            guard record.isRunning else { return record }
            var remaining = -1
            if let deadline {
                let left = deadline - Timestamp.monotonicSeconds()
                if left <= 0 { return record }
                remaining = Int(left * 1000) + 1
            }
            // The monitor writes the record, then ends: its end is the signal.
            guard let monitor = record.monitor else { return record }
            let fd = bsys_pidfd_open(monitor.pid)
            if fd < 0 { continue }
            if monitor.isAlive {
                var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&entry, 1, Int32(min(remaining < 0 ? 1000 : remaining, 1000)))
            }
            close(fd)
        }
    }

    /// Waits up to `timeout` seconds for the container's monitor to end: a
    /// --rm container's monitor removes it first, so it is gone after.
    public func waitForMonitor(of record: ContainerRecord, timeout: Double) {
        guard let monitor = record.monitor else { return }
        let fd = bsys_pidfd_open(monitor.pid)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard monitor.isAlive else { return }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, Int32(timeout * 1000))
    }
}
