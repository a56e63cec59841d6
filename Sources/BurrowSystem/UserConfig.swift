import Glibc

/// The user's settings file, `${XDG_CONFIG_HOME:-~/.config}/burrow/burrow.conf`:
/// one `key = value` a line, `#` comments. A flag or an environment
/// variable wins over it; it wins over burrow's default.
public struct UserConfig: Sendable {
    /// Every key the file may hold, with what it takes.
    public static let keys = ["host-ca": "true or false: lend the host's CA bundle to builds and containers (see --host-ca)"]

    public let path: String
    private let settings: [String: Setting]

    public struct Setting: Sendable {
        public let value: String
        /// `path:line`, for messages about the value.
        public let place: String
    }

    /// The file for this user, read; empty when there is none.
    public static func load() throws -> UserConfig {
        let base = environment("XDG_CONFIG_HOME") ?? environment("HOME").map { "\($0)/.config" } ?? ""
        let path = "\(base)/burrow/burrow.conf"
        guard !base.isEmpty, FileSystem.exists(path) else { return UserConfig(path: path, settings: [:]) }
        return try parse(try FileSystem.readText(path), path: path)
    }

    public static func parse(_ text: String, path: String) throws -> UserConfig {
        var settings: [String: Setting] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let place = "\(path):\(index + 1)"
            let parts = line.split(separator: "=", maxSplits: 1).map { trimmed($0) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw BurrowError.invalidArgument("\(place): expected key = value, as in: host-ca = true")
            }
            guard keys[parts[0]] != nil else {
                let known = keys.keys.sorted().map { "\($0) (\(keys[$0]!))" }.joined(separator: "; ")
                throw BurrowError.invalidArgument("\(place): unknown setting \(parts[0]): the file knows \(known)")
            }
            var value = Substring(parts[1])
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
            settings[parts[0]] = Setting(value: String(value), place: place)
        }
        return UserConfig(path: path, settings: settings)
    }

    public func setting(_ key: String) -> Setting? { settings[key] }

    private static func trimmed(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
