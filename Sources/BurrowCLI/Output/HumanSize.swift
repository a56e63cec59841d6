/// Sizes as Docker prints them: decimal units, three significant digits.
enum HumanSize {
    static func format(_ bytes: Int64, precision: Int = 3) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return significant(value, precision) + units[unit]
    }

    /// %.Ng without Foundation's formatter.
    static func significant(_ value: Double, _ digits: Int) -> String {
        if value == 0 { return "0" }
        var magnitude = 0
        var probe = abs(value)
        while probe >= 10 { probe /= 10; magnitude += 1 }
        while probe < 1 { probe *= 10; magnitude -= 1 }
        let decimals = max(0, digits - 1 - magnitude)
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = decimals == 0 ? String(Int64(rounded)) : String(rounded)
        if text.contains(".") {
            let parts = text.split(separator: ".")
            let fraction = String(parts[1].prefix(decimals)).reversed().drop { $0 == "0" }
            text = String(parts[0]) + (fraction.isEmpty ? "" : "." + String(fraction.reversed()))
        }
        return text
    }
}
