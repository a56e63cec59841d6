import Glibc

/// RFC 3339 times, as image configs and `inspect` write them, without Foundation.
public enum Timestamp {
    public static func now() -> String { format(seconds: Int64(time(nil))) }

    public static var nowSeconds: Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    /// Seconds on a clock that never jumps, for timeouts.
    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Now, with nanoseconds, as Docker's StartedAt and FinishedAt.
    public static func nowPrecise() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return format(seconds: Int64(ts.tv_sec), nanoseconds: Int(ts.tv_nsec), fraction: true)
    }

    /// With `fraction`, nine digits of it always: such times sort as text.
    public static func format(seconds: Int64, nanoseconds: Int = 0, fraction: Bool = false) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int = 2) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        var text = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec))"
        if nanoseconds > 0 || fraction {
            let digits = String(nanoseconds)
            text += "." + String(repeating: "0", count: 9 - digits.count) + digits
        }
        return text + "Z"
    }

    /// Seconds since the epoch, nil when the text is not RFC 3339.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for i in range {
                guard bytes[i] >= 48 && bytes[i] <= 57 else { return nil }
                value = value * 10 + Int32(bytes[i] - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        var seconds = Int64(timegm(&parts))
        var i = 19
        if i < bytes.count && bytes[i] == 46 {
            i += 1
            while i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 { i += 1 }
        }
        guard i < bytes.count else { return nil }
        if bytes[i] == 43 || bytes[i] == 45, i + 6 <= bytes.count, let h = number((i + 1)..<(i + 3)), let m = number((i + 4)..<(i + 6)) {
            let offset = Int64(h) * 3600 + Int64(m) * 60
            seconds += bytes[i] == 43 ? -offset : offset
        }
        return seconds
    }

    /// "2 hours ago", as `docker images` prints an age.
    public static func ago(_ seconds: Int64, now: Int64 = Timestamp.nowSeconds) -> String {
        let delta = max(0, now - seconds)
        func unit(_ n: Int64, _ name: String) -> String { n == 1 ? (name == "hour" ? "About an hour ago" : "1 \(name) ago") : "\(n) \(name)s ago" }
        switch delta {
        case ..<1: return "Less than a second ago"
        case ..<60: return delta == 1 ? "1 second ago" : "\(delta) seconds ago"
        case ..<3600: return delta / 60 == 1 ? "About a minute ago" : "\(delta / 60) minutes ago"
        case ..<(48 * 3600): return unit(delta / 3600, "hour")
        case ..<(14 * 86400): return "\(delta / 86400) days ago"
        case ..<(60 * 86400): return "\(delta / (7 * 86400)) weeks ago"
        case ..<(730 * 86400): return "\(delta / (30 * 86400)) months ago"
        default: return "\(delta / (365 * 86400)) years ago"
        }
    }
}
