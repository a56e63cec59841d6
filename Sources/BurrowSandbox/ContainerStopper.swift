import BurrowStore
import BurrowSystem
import Glibc

/// `stop`: the image's StopSignal (SIGTERM by default) to PID 1, then
/// SIGKILL once the timeout has passed, as Docker does.
public struct ContainerStopper {
    public let store: Store

    public init(store: Store) { self.store = store }

    /// The signal and timeout a container is stopped with, options first.
    public static func signal(_ config: ContainerConfig?, option: String?) throws -> Int32 {
        let text = option ?? config?.stopSignal ?? "SIGTERM"
        guard let number = SignalNames.number(text) else {
            throw BurrowError.invalidArgument("invalid signal \"\(text)\": use a name such as SIGTERM or a number from 1 to 64")
        }
        return number
    }

    /// Stops the container and returns its record once it has ended.
    @discardableResult
    public func stop(_ id: String, signal option: String? = nil, timeout: Int? = nil) throws -> ContainerRecord? {
        guard let record = try store.currentContainer(id), record.isRunning else { return try store.currentContainer(id) }
        let config = try store.containerConfig(id)
        let signal = try ContainerStopper.signal(config, option: option)
        let seconds = timeout ?? config?.stopTimeout ?? 10
        let access = ContainerAccess(store: store)
        if seconds != 0, record.process != nil {
            do {
                try access.signal(record, signal)
            } catch let error as BurrowError where error.code == .conflict {
                // It ended on its own meanwhile.
            }
            // -1 waits as long as it takes, as Docker's.
            let ended = try access.waitForEnd(id, timeout: seconds < 0 ? nil : Double(seconds))
            if ended?.isRunning != true { return ended }
        }
        guard let still = try store.currentContainer(id), still.isRunning else { return try store.currentContainer(id) }
        if still.process == nil {
            // Still starting: its monitor ends with it.
            if let monitor = still.monitor { kill(monitor.pid, SIGKILL) }
        } else {
            do {
                try access.signal(still, SIGKILL)
            } catch let error as BurrowError where error.code == .conflict {}
        }
        return try access.waitForEnd(id, timeout: 30)
    }
}
