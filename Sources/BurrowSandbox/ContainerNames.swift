import BurrowSystem

/// Docker-style names for containers nobody named: adjective_scientist.
public enum ContainerNames {
    static let adjectives = [
        "agile", "bold", "brave", "calm", "clever", "cosmic", "curious", "daring", "eager", "elegant", "fervent",
        "focused", "gallant", "gentle", "happy", "hardy", "jolly", "keen", "kind", "lucid", "merry", "modest",
        "nimble", "patient", "quiet", "quirky", "serene", "sharp", "steady", "sunny", "swift", "tender", "vivid",
        "wise", "witty", "zealous",
    ]
    static let scientists = [
        "agnesi", "banach", "bohr", "curie", "darwin", "dijkstra", "einstein", "euler", "faraday", "fermi",
        "franklin", "galois", "gauss", "hopper", "hypatia", "kepler", "knuth", "lamarr", "lovelace", "maxwell",
        "meitner", "noether", "pascal", "planck", "ramanujan", "ritchie", "shannon", "somerville", "tesla",
        "thompson", "turing", "volta", "wozniak", "yalow",
    ]

    public static func random() -> String {
        let bytes = Hex.random(bytes: 4)
        let value = Int(bytes, radix: 16) ?? 0
        let adjective = adjectives[value % adjectives.count]
        let scientist = scientists[(value / adjectives.count) % scientists.count]
        return "\(adjective)_\(scientist)_\(bytes.prefix(4))"
    }

    /// What sethostname takes and resolvers accept: 1 to 64 letters, digits,
    /// dots and hyphens, not starting with a hyphen.
    public static func isValidHostname(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 64, first != 45 else { return false }
        return name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 46 }
    }

    /// Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
        return alnum(first) && name.utf8.allSatisfy { alnum($0) || $0 == 95 || $0 == 46 || $0 == 45 } && name.utf8.count <= 128
    }
}
