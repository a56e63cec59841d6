import BurrowOCI

/// Go's fmt for JSON decoded into `interface{}`, as Docker's templates print
/// it: `%v`, Sprint, Sprintln and the printf verbs s, d, v, q, t. A nil value
/// is Go's invalid value (a key the map lacks) and prints `<no value>` on its own.
enum GoFormat {
    /// `{{.}}`: Go's `%v`.
    static func text(_ value: JSONValue?) -> String {
        guard let value else { return "<no value>" }
        return text(value)
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return s
        case .array(let items): return "[" + items.map { text($0) }.joined(separator: " ") + "]"
        case .object: return "map[" + sortedMembers(value).map { $0.0 + ":" + text($0.1) }.joined(separator: " ") + "]"
        }
    }

    /// A map's members as Go prints and ranges over them: keys in byte order,
    /// the last of a repeated key.
    static func sortedMembers(_ value: JSONValue) -> [(String, JSONValue)] {
        guard let members = value.members else { return [] }
        var latest: [String: JSONValue] = [:]
        for (key, member) in members { latest[key] = member }
        return latest.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
    }

    /// fmt.Sprint: a space between two operands when neither is a string.
    static func sprint(_ values: [JSONValue]) -> String {
        var out = ""
        for (i, value) in values.enumerated() {
            if i > 0, value.string == nil, values[i - 1].string == nil { out += " " }
            out += text(value)
        }
        return out
    }

    /// fmt.Sprintln: spaces between all operands, then a newline.
    static func sprintln(_ values: [JSONValue]) -> String {
        values.map { text($0) }.joined(separator: " ") + "\n"
    }

    /// strconv.Quote.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{07}": out += "\\a"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0B}": out += "\\v"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\x" + hex(scalar.value, width: 2)
            case _ where (0x80..<0xA0).contains(scalar.value):
                out += "\\u" + hex(scalar.value, width: 4)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    // MARK: printf

    private struct Verb {
        var leftAlign = false
        var zeroPad = false
        var plus = false
        var width: Int?
        var precision: Int?
        var letter: Character = "v"
    }

    static func printf(_ format: String, _ arguments: [JSONValue]) -> String {
        var out = ""
        var next = 0
        var characters = format[...]
        while let c = characters.popFirst() {
            guard c == "%" else { out.append(c); continue }
            var verb = Verb()
            while let flag = characters.first, "-+0 #".contains(flag) {
                switch flag {
                case "-": verb.leftAlign = true
                case "0": verb.zeroPad = true
                case "+": verb.plus = true
                default: break
                }
                characters.removeFirst()
            }
            verb.width = popNumber(&characters)
            if characters.first == "." {
                characters.removeFirst()
                verb.precision = popNumber(&characters) ?? 0
            }
            guard let letter = characters.popFirst() else { out += "%!(NOVERB)"; break }
            if letter == "%" { out += "%"; continue }
            verb.letter = letter
            guard next < arguments.count else { out += "%!\(letter)(MISSING)"; continue }
            out += formatted(arguments[next], verb)
            next += 1
        }
        if next < arguments.count {
            out += "%!(EXTRA " + arguments[next...].map { $0 == .null ? "<nil>" : goType($0) + "=" + text($0) }.joined(separator: ", ") + ")"
        }
        return out
    }

    private static func popNumber(_ characters: inout Substring) -> Int? {
        let digits = characters.prefix { $0.isASCIIDigit }
        characters = characters.dropFirst(digits.count)
        return Int(digits)
    }

    /// Lists and maps apply the verb to each element, as Go does.
    private static func formatted(_ value: JSONValue, _ verb: Verb) -> String {
        switch value {
        case .array(let items):
            return "[" + items.map { formatted($0, verb) }.joined(separator: " ") + "]"
        case .object:
            return "map[" + sortedMembers(value).map { formatted(.string($0.0), verb) + ":" + formatted($0.1, verb) }.joined(separator: " ") + "]"
        case .null:
            return verb.letter == "v" ? padded("<nil>", verb) : "%!\(verb.letter)(<nil>)"
        default:
            break
        }
        switch verb.letter {
        case "v", "s":
            var body = text(value)
            if value.string != nil, let precision = verb.precision { body = String(body.unicodeScalars.prefix(precision)) }
            return padded(body, verb)
        case "q":
            guard var body = value.string else { return bad(value, verb) }
            if let precision = verb.precision { body = String(body.unicodeScalars.prefix(precision)) }
            return padded(quote(body), verb)
        case "d":
            guard let integer = integer(value) else { return bad(value, verb) }
            let sign = integer < 0 ? "-" : (verb.plus ? "+" : "")
            let digits = String(integer.magnitude)
            if verb.zeroPad, !verb.leftAlign, let width = verb.width, sign.count + digits.count < width {
                return sign + String(repeating: "0", count: width - sign.count - digits.count) + digits
            }
            return padded(sign + digits, verb)
        case "t":
            guard value.bool != nil else { return bad(value, verb) }
            return padded(text(value), verb)
        default:
            return bad(value, verb)
        }
    }

    private static func integer(_ value: JSONValue) -> Int64? {
        guard case .number(let text) = value else { return nil }
        if let integer = Int64(text) { return integer }
        if let double = Double(text), double == double.rounded(), abs(double) < 9.2e18 { return Int64(double) }
        return nil
    }

    private static func padded(_ text: String, _ verb: Verb) -> String {
        guard let width = verb.width else { return text }
        let count = text.unicodeScalars.count
        guard count < width else { return text }
        let padding = String(repeating: " ", count: width - count)
        return verb.leftAlign ? text + padding : padding + text
    }

    /// Go's report of a verb that does not fit its operand: `%!d(string=abc)`.
    private static func bad(_ value: JSONValue, _ verb: Verb) -> String {
        "%!\(verb.letter)(\(goType(value))=\(text(value)))"
    }

    /// The Go type a JSON value decodes into, as fmt names it.
    static func goType(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool: return "bool"
        case .number(let n): return Int64(n) != nil ? "int" : "float64"
        case .string: return "string"
        case .array: return "[]interface {}"
        case .object: return "map[string]interface {}"
        }
    }
}
