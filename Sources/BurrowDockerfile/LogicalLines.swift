/// The first pass over a Dockerfile: parser directives, then one logical
/// line per instruction with its continuations joined, comments and empty
/// lines inside a continuation dropped (as BuildKit does), and the bodies of
/// its heredocs taken from the lines that follow it.
struct LogicalLines {
    struct Line {
        let number: Int
        let text: String
        let heredocs: [Heredoc]
    }

    static let knownDirectives: Set<String> = ["syntax", "escape", "check"]
    /// Instructions whose heredocs BuildKit reads.
    static let heredocKeywords: Set<String> = ["RUN", "COPY", "ADD"]

    var directives: [String: String] = [:]
    var escape: Character = "\\"
    var lines: [Line] = []

    init(_ text: String) throws {
        // "\r\n" is one Character to Swift: both ends of line are separators.
        let raw = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        var index = 0
        // Directives come first, each once; anything else ends them.
        while index < raw.count, let (key, value) = LogicalLines.directive(raw[index]) {
            guard directives[key] == nil else { throw DockerfileError(line: index + 1, "only one \(key) parser directive can be used") }
            directives[key] = value
            index += 1
        }
        if let value = directives["escape"] {
            guard value == "\\" || value == "`" else { throw DockerfileError(line: 0, "invalid escape token '\(value)': it must be ` or \\") }
            escape = value.first!
        }
        while index < raw.count {
            let first = raw[index]
            if LogicalLines.isBlankOrComment(first) {
                index += 1
                continue
            }
            let number = index + 1
            var joined = ""
            var current = first
            while true {
                let trimmed = current.trimmingTrailingWhitespace
                guard trimmed.last == escape else {
                    joined += current
                    index += 1
                    break
                }
                joined += trimmed.dropLast()
                index += 1
                while index < raw.count && LogicalLines.isBlankOrComment(raw[index]) { index += 1 }
                guard index < raw.count else { break }
                current = raw[index]
            }
            let heredocs = try LogicalLines.readHeredocs(for: joined, lines: raw, index: &index, lineNumber: number)
            lines.append(Line(number: number, text: joined, heredocs: heredocs))
        }
    }

    static func isBlankOrComment(_ line: Substring) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        return trimmed.isEmpty || trimmed.first == "#"
    }

    /// `# key=value` with a known key, lowercased.
    static func directive(_ line: Substring) -> (String, String)? {
        var rest = line.drop { $0 == " " || $0 == "\t" }
        guard rest.first == "#" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
        guard let equals = rest.firstIndex(of: "=") else { return nil }
        let key = rest[..<equals].trimmingTrailingWhitespace.lowercased()
        guard knownDirectives.contains(key), !key.contains(" ") else { return nil }
        let value = rest[rest.index(after: equals)...].drop { $0 == " " || $0 == "\t" }.trimmingTrailingWhitespace
        return (key, String(value))
    }

    /// The heredocs an instruction names (`<<EOF`, `<<-EOF`, `<<'EOF'`), each
    /// body read from the lines after it up to its terminator.
    static func readHeredocs(for text: String, lines: [Substring], index: inout Int, lineNumber: Int) throws -> [Heredoc] {
        let keyword = text.drop { $0 == " " || $0 == "\t" }.prefix { $0 != " " && $0 != "\t" }.uppercased()
        guard heredocKeywords.contains(keyword) else { return [] }
        var result: [Heredoc] = []
        for marker in heredocMarkers(text) {
            var body: [Substring] = []
            var found = false
            while index < lines.count {
                var line = lines[index]
                index += 1
                if marker.stripsTabs { line = line.drop { $0 == "\t" } }
                if line == marker.name {
                    found = true
                    break
                }
                body.append(line)
            }
            guard found else { throw DockerfileError(line: lineNumber, "the heredoc \(marker.name) has no terminating line \"\(marker.name)\"") }
            let text = body.isEmpty ? "" : body.joined(separator: "\n") + "\n"
            result.append(Heredoc(name: marker.name, body: text, quoted: marker.quoted, stripsTabs: marker.stripsTabs))
        }
        return result
    }

    struct Marker {
        let name: String
        let quoted: Bool
        let stripsTabs: Bool
    }

    /// Words of the form `<<[-]NAME` or `<<[-]"NAME"` / `<<[-]'NAME'` outside quotes.
    static func heredocMarkers(_ text: String) -> [Marker] {
        var markers: [Marker] = []
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard word.hasPrefix("<<"), !word.hasPrefix("<<<") else { continue }
            var rest = word.dropFirst(2)
            let strips = rest.first == "-"
            if strips { rest = rest.dropFirst() }
            var quoted = false
            if let quote = rest.first, quote == "\"" || quote == "'" {
                guard rest.count >= 2, rest.last == quote else { continue }
                rest = rest.dropFirst().dropLast()
                quoted = true
            }
            guard let first = rest.first, first.isLetter || first == "_",
                  rest.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else { continue }
            markers.append(Marker(name: String(rest), quoted: quoted, stripsTabs: strips))
        }
        return markers
    }
}

extension Substring {
    var trimmingTrailingWhitespace: Substring {
        var result = self
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}

extension String {
    var trimmingWhitespace: String {
        String(Substring(self).drop { $0 == " " || $0 == "\t" }.trimmingTrailingWhitespace)
    }
}
