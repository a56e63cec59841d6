/// A `.dockerignore`: which context paths a build never sees. Patterns are
/// read in order and the last one that matches a path (or a directory
/// above it) decides; `!` makes an exception. As moby's patternmatcher.
public struct DockerIgnore: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public let pattern: PathPattern
        public let exception: Bool
    }

    public let rules: [Rule]

    public init(_ text: String) {
        var rules: [Rule] = []
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = String(raw).trimmingWhitespace
            if line.isEmpty || line.hasPrefix("#") { continue }
            var exception = false
            if line.hasPrefix("!") {
                exception = true
                line = String(line.dropFirst()).trimmingWhitespace
            }
            let pattern = PathPattern(line)
            if pattern.components.isEmpty { continue }
            rules.append(Rule(pattern: pattern, exception: exception))
        }
        self.rules = rules
    }

    /// Whether `path` (relative to the context) is left out.
    public func excludes(_ path: String) -> Bool {
        let components = PathPattern.clean(path).split(separator: "/").map(String.init)
        var excluded = false
        for rule in rules {
            // The path itself, or a directory above it.
            let matched = (1...max(components.count, 1)).contains { count in
                rule.pattern.matches(components.prefix(count).joined(separator: "/"))
            }
            if matched { excluded = !rule.exception }
        }
        return excluded
    }

    /// Whether some exception could bring back a path below `directory`:
    /// then an excluded directory must still be walked.
    public func mayIncludeBelow(_ directory: String) -> Bool {
        let prefix = PathPattern.clean(directory).split(separator: "/").map(String.init)
        return rules.contains { rule in
            guard rule.exception else { return false }
            for (index, part) in prefix.enumerated() {
                guard index < rule.pattern.components.count else { return false }
                let component = rule.pattern.components[index]
                if component == "**" { return true }
                if !PathPattern.matchComponent(Array(component), Array(part)) { return false }
            }
            return true
        }
    }
}
