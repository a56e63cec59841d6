import BurrowSystem
import Glibc

extension Store {
    public func containerConfig(_ id: String) throws -> ContainerConfig? {
        try JSONFiles.read(ContainerConfig.self, from: layout.containerConfig(id))
    }

    public func writeContainerConfig(_ config: ContainerConfig, id: String) throws {
        try JSONFiles.write(config, to: layout.containerConfig(id), durable: false)
    }

    /// Reads, changes and writes a container's record while holding its
    /// lock, so the monitor recording an exit and a `rename` never lose each
    /// other's change. nil when the container is gone.
    @discardableResult
    public func updateContainer(_ id: String, _ change: (inout ContainerRecord) throws -> Void) throws -> ContainerRecord? {
        guard FileSystem.exists(layout.container(id)) else { return nil }
        let lock: FileLock
        do {
            lock = try FileLock(path: layout.containerLock(id), mode: .exclusive)
        } catch let error as SystemError where error.errno == ENOENT {
            return nil
        }
        defer { _ = lock }
        guard var record = try container(id) else { return nil }
        try change(&record)
        try writeContainer(record)
        return record
    }

    /// The container as it is now: a record that says running while the
    /// process that ran it is gone is a container that died with it (the
    /// container's PID 1 gets SIGKILL when its monitor dies), and is written
    /// down as such, so no command ever shows a ghost "running" row.
    public func currentContainer(_ id: String) throws -> ContainerRecord? {
        guard let record = try container(id) else { return nil }
        guard record.state == .running, let monitor = record.monitor, !monitor.isAlive else { return record }
        return try updateContainer(id) { current in
            guard current.state == .running, current.monitor == monitor else { return }
            current.markDeadWithMonitor()
        } ?? record
    }

    /// Every container, as `currentContainer` sees it.
    public func currentContainers() throws -> [ContainerRecord] {
        try containers().map { record in
            guard record.state == .running, let monitor = record.monitor, !monitor.isAlive else { return record }
            return (try? currentContainer(record.id)) ?? record
        }
    }
}

extension ContainerRecord {
    /// The monitor was killed: so was the container, with SIGKILL.
    mutating func markDeadWithMonitor() {
        state = .exited
        exitCode = exitCode ?? 137
        finished = finished ?? Timestamp.nowPrecise()
        error = "the process that ran the container (pid \(monitor?.pid ?? 0)) was killed, and the container with it"
        if let attachSocket { unlink(attachSocket) }
        attachSocket = nil
    }

    /// True while the container's process runs.
    public var isRunning: Bool { state == .running }
}
