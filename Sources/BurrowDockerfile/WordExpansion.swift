/// BuildKit's word processing for ADD, COPY, ENV, EXPOSE, FROM, LABEL,
/// STOPSIGNAL, USER, VOLUME, WORKDIR (and ARG defaults): `$NAME`,
/// `${NAME}`, `${NAME:-word}`, `${NAME:+word}`, `${NAME-word}`,
/// `${NAME+word}`, `${NAME:?message}`; single quotes keep everything,
/// double quotes keep spaces, the escape character keeps the next one.
/// RUN, CMD and ENTRYPOINT are never expanded here: their shell does it.
public struct WordExpansion {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let escape: Character
    public let lookup: (String) -> String?

    public init(escape: Character = "\\", lookup: @escaping (String) -> String?) {
        self.escape = escape
        self.lookup = lookup
    }

    /// One word, quotes removed, never split.
    public func word(_ text: String) throws -> String {
        var reader = Reader(Array(text))
        return try process(&reader, stopAt: nil)
    }

    /// Words split at whitespace outside quotes, each processed.
    public func words(_ text: String) throws -> [String] {
        do {
            return try QuotedWords.split(text, escape: escape).map(word)
        } catch let error as QuotedWords.Unterminated {
            throw Failure(description: error.description)
        }
    }

    /// A heredoc's body (`COPY <<EOF` with an unquoted EOF): only `$NAME`
    /// and `${...}` are expanded, and the escape character before a `$`
    /// keeps it; quotes and every other character stay as written.
    public func text(_ text: String) throws -> String {
        var reader = Reader(Array(text))
        var result = ""
        while let c = reader.next() {
            if c == escape, reader.peek == "$" {
                result.append("$")
                reader.index += 1
            } else if c == "$" {
                result += try variable(&reader)
            } else {
                result.append(c)
            }
        }
        return result
    }

    struct Reader {
        let characters: [Character]
        var index = 0
        init(_ characters: [Character]) { self.characters = characters }
        var peek: Character? { index < characters.count ? characters[index] : nil }
        mutating func next() -> Character? {
            defer { index += 1 }
            return peek
        }
    }

    /// Up to `stopAt` (the `}` ending a `${...}` word) or the end.
    private func process(_ reader: inout Reader, stopAt: Character?) throws -> String {
        var result = ""
        while let c = reader.peek {
            if c == stopAt { return result }
            reader.index += 1
            switch c {
            case "'":
                while true {
                    guard let d = reader.next() else { throw Failure(description: "unexpected end of statement while looking for matching single-quote") }
                    if d == "'" { break }
                    result.append(d)
                }
            case "\"":
                while true {
                    guard let d = reader.next() else { throw Failure(description: "unexpected end of statement while looking for matching double-quote") }
                    if d == "\"" { break }
                    if d == escape, let e = reader.peek, e == "\"" || e == "$" || e == escape {
                        result.append(e)
                        reader.index += 1
                    } else if d == "$" {
                        result += try variable(&reader)
                    } else {
                        result.append(d)
                    }
                }
            case "$":
                result += try variable(&reader)
            case escape:
                if let e = reader.next() { result.append(e) }
            default:
                result.append(c)
            }
        }
        if stopAt != nil { throw Failure(description: "missing '}' in a ${...} expression") }
        return result
    }

    /// After a `$`: the variable's value, or `$` itself when no name follows.
    private func variable(_ reader: inout Reader) throws -> String {
        guard let c = reader.peek else { return "$" }
        if c == "{" {
            reader.index += 1
            let name = readName(&reader)
            guard !name.isEmpty else { throw Failure(description: "bad substitution: ${ needs a variable name") }
            guard let next = reader.next() else { throw Failure(description: "missing '}' after ${\(name)") }
            if next == "}" { return lookup(name) ?? "" }
            var colon = false
            var modifier = next
            if next == ":" {
                colon = true
                guard let m = reader.next() else { throw Failure(description: "missing '}' after ${\(name):") }
                modifier = m
            }
            guard modifier == "-" || modifier == "+" || modifier == "?" else {
                throw Failure(description: "unsupported modifier (\(modifier)) in substitution ${\(name)...}")
            }
            let word = try process(&reader, stopAt: "}")
            reader.index += 1
            let value = lookup(name)
            let isSet = colon ? !(value ?? "").isEmpty : value != nil
            switch modifier {
            case "-": return isSet ? value ?? "" : word
            case "+": return isSet ? word : ""
            default:
                guard isSet else { throw Failure(description: "\(name): \(word.isEmpty ? "is not allowed to be unset" : word)") }
                return value ?? ""
            }
        }
        let name = readName(&reader)
        if name.isEmpty { return "$" }
        return lookup(name) ?? ""
    }

    private func readName(_ reader: inout Reader) -> String {
        var name = ""
        while let c = reader.peek, c == "_" || c.isASCII && (c.isLetter || c.isNumber) {
            name.append(c)
            reader.index += 1
        }
        return name
    }
}
