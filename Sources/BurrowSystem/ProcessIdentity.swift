import Glibc

/// A process named so that a recycled pid never passes for it: the pid and
/// its start time in clock ticks (field 22 of /proc/PID/stat).
public struct ProcessIdentity: Sendable, Equatable, CustomStringConvertible {
    public let pid: Int32
    public let startTime: UInt64

    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// The process as it runs now; nil when there is none.
    public static func of(_ pid: Int32) -> ProcessIdentity? {
        guard let stat = ProcessStat.read(pid) else { return nil }
        return ProcessIdentity(pid: pid, startTime: stat.startTime)
    }

    public static func current() -> ProcessIdentity {
        of(getpid()) ?? ProcessIdentity(pid: getpid(), startTime: 0)
    }

    /// "PID STARTTIME", as records keep it.
    public var description: String { "\(pid) \(startTime)" }

    public init?(_ text: String) {
        let fields = text.split(separator: " ")
        guard fields.count == 2, let pid = Int32(fields[0]), let start = UInt64(fields[1]) else { return nil }
        self.init(pid: pid, startTime: start)
    }

    /// True while this very process runs (a zombie no longer does).
    public var isAlive: Bool {
        guard let stat = ProcessStat.read(pid) else { return false }
        return stat.startTime == startTime && stat.state != "Z" && stat.state != "X"
    }
}

/// The fields of /proc/PID/stat that burrow reads.
public struct ProcessStat: Sendable {
    public let state: Character
    public let parent: Int32
    public let startTime: UInt64
    /// User and system time, in clock ticks.
    public let cpuTicks: UInt64
    public let terminal: Int32

    public static func read(_ pid: Int32) -> ProcessStat? {
        guard let text = try? FileSystem.readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        // After the command's closing parenthesis: field 3 (state) onwards.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]), let start = UInt64(fields[19]),
              let user = UInt64(fields[11]), let system = UInt64(fields[12]), let terminal = Int32(fields[4]) else { return nil }
        return ProcessStat(state: state, parent: parent, startTime: start, cpuTicks: user + system, terminal: terminal)
    }
}
