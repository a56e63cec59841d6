import Glibc

/// Signal names as Docker's `kill -s`, `stop -s` and an image's StopSignal
/// take them: `SIGTERM`, `TERM`, `15`, `SIGRTMIN+3`.
public enum SignalNames {
    static let table: [(String, Int32)] = [
        ("HUP", 1), ("INT", 2), ("QUIT", 3), ("ILL", 4), ("TRAP", 5), ("ABRT", 6), ("IOT", 6), ("BUS", 7), ("FPE", 8),
        ("KILL", 9), ("USR1", 10), ("SEGV", 11), ("USR2", 12), ("PIPE", 13), ("ALRM", 14), ("TERM", 15), ("STKFLT", 16),
        ("CHLD", 17), ("CLD", 17), ("CONT", 18), ("STOP", 19), ("TSTP", 20), ("TTIN", 21), ("TTOU", 22), ("URG", 23),
        ("XCPU", 24), ("XFSZ", 25), ("VTALRM", 26), ("PROF", 27), ("WINCH", 28), ("IO", 29), ("POLL", 29), ("PWR", 30),
        ("SYS", 31),
    ]
    static let realtimeMinimum: Int32 = 34
    static let realtimeMaximum: Int32 = 64

    /// The signal's number; nil for a name or number Linux does not have.
    public static func number(_ text: String) -> Int32? {
        if let value = Int32(text) { return value > 0 && value <= realtimeMaximum ? value : nil }
        var name = Substring(text.uppercased())
        if name.hasPrefix("SIG") { name = name.dropFirst(3) }
        if let found = table.first(where: { $0.0 == name }) { return found.1 }
        for (prefix, base, step) in [("RTMIN", realtimeMinimum, Int32(1)), ("RTMAX", realtimeMaximum, Int32(-1))] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            if rest.isEmpty { return base }
            guard rest.first == (step > 0 ? "+" : "-"), let offset = Int32(rest.dropFirst()) else { return nil }
            let value = base + step * offset
            return value >= realtimeMinimum && value <= realtimeMaximum ? value : nil
        }
        return nil
    }

    /// As Docker says it: "SIGTERM", or the number.
    public static func name(_ number: Int32) -> String {
        table.first { $0.1 == number }.map { "SIG" + $0.0 } ?? String(number)
    }
}
