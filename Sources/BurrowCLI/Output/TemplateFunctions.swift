import BurrowOCI

/// The arguments of a function call, evaluated when the function asks for
/// them: `and` and `or` stop at the first that decides, as Go's do.
struct TemplateArguments {
    let count: Int
    let function: String
    let evaluate: (Int) throws(TemplateError) -> JSONValue?

    /// A key the data lacks is Go's nil interface here.
    func value(_ i: Int) throws(TemplateError) -> JSONValue { try evaluate(i) ?? .null }

    func values() throws(TemplateError) -> [JSONValue] {
        var result: [JSONValue] = []
        for i in 0..<count { result.append(try value(i)) }
        return result
    }

    func string(_ i: Int) throws(TemplateError) -> String {
        let argument = try value(i)
        guard let text = argument.string else { throw wrongType(i, argument, expected: "a string") }
        return text
    }

    func integer(_ i: Int) throws(TemplateError) -> Int {
        let argument = try value(i)
        guard case .number(let text) = argument, let integer = Int(text) else { throw wrongType(i, argument, expected: "an integer") }
        return integer
    }

    func wrongType(_ i: Int, _ value: JSONValue, expected: String) -> TemplateError {
        TemplateError("\(function): argument \(i + 1) should be \(expected), not \(TemplateFunctions.describe(value))")
    }
}

struct TemplateFunction: Sendable {
    let minimumArguments: Int
    /// nil: any number from the minimum up.
    let maximumArguments: Int?
    let body: @Sendable (TemplateArguments) throws(TemplateError) -> JSONValue?

    init(_ minimum: Int, _ maximum: Int?, _ body: @escaping @Sendable (TemplateArguments) throws(TemplateError) -> JSONValue?) {
        self.minimumArguments = minimum
        self.maximumArguments = maximum
        self.body = body
    }
}

/// Go's template builtins and the functions Docker's CLI adds
/// (docker/cli `templates/templates.go`), over decoded JSON.
enum TemplateFunctions {
    static let table: [String: TemplateFunction] = [
        // Docker's.
        "json": TemplateFunction(1, 1) { args throws(TemplateError) in .string(try args.value(0).serialized) },
        "join": TemplateFunction(2, 2) { args throws(TemplateError) in
            let list = try args.value(0)
            let separator = try args.string(1)
            switch list {
            case .null: return .string("")
            case .array(let items): return .string(items.map { GoFormat.text($0) }.joined(separator: separator))
            default: throw args.wrongType(0, list, expected: "a list")
            }
        },
        "split": TemplateFunction(2, 2) { args throws(TemplateError) in
            .array(split(try args.string(0), by: try args.string(1)).map { .string($0) })
        },
        "lower": TemplateFunction(1, 1) { args throws(TemplateError) in .string(try args.string(0).lowercased()) },
        "upper": TemplateFunction(1, 1) { args throws(TemplateError) in .string(try args.string(0).uppercased()) },
        "title": TemplateFunction(1, 1) { args throws(TemplateError) in .string(title(try args.string(0))) },
        "truncate": TemplateFunction(2, 2) { args throws(TemplateError) in
            let text = try args.string(0)
            let length = try args.integer(1)
            guard length >= 0 else { throw TemplateError("truncate: the length \(length) is negative") }
            return .string(String(text.prefix(length)))
        },
        "pad": TemplateFunction(3, 3) { args throws(TemplateError) in
            let text = try args.string(0)
            let (left, right) = (try args.integer(1), try args.integer(2))
            guard left >= 0, right >= 0 else { throw TemplateError("pad: the padding \(min(left, right)) is negative") }
            if text.isEmpty { return .string("") }
            return .string(String(repeating: " ", count: left) + text + String(repeating: " ", count: right))
        },

        // Go's.
        "index": TemplateFunction(1, nil) { args throws(TemplateError) in
            var item = try args.value(0)
            for i in 1..<args.count { item = try index(item, by: try args.value(i)) }
            return item
        },
        "len": TemplateFunction(1, 1) { args throws(TemplateError) in
            switch try args.value(0) {
            case .null: return .number("0")
            case .string(let text): return .number(String(text.utf8.count))
            case .array(let items): return .number(String(items.count))
            case .object: return .number(String(GoFormat.sortedMembers(try args.value(0)).count))
            case let other: throw TemplateError("len: \(describe(other)) has no length")
            }
        },
        "printf": TemplateFunction(1, nil) { args throws(TemplateError) in
            .string(GoFormat.printf(try args.string(0), Array(try args.values().dropFirst())))
        },
        "print": TemplateFunction(0, nil) { args throws(TemplateError) in .string(GoFormat.sprint(try args.values())) },
        "println": TemplateFunction(0, nil) { args throws(TemplateError) in .string(GoFormat.sprintln(try args.values())) },
        "not": TemplateFunction(1, 1) { args throws(TemplateError) in .bool(!isTrue(try args.evaluate(0))) },
        "and": TemplateFunction(1, nil) { args throws(TemplateError) in
            var value: JSONValue? = nil
            for i in 0..<args.count {
                value = try args.evaluate(i)
                if !isTrue(value) { break }
            }
            return value
        },
        "or": TemplateFunction(1, nil) { args throws(TemplateError) in
            var value: JSONValue? = nil
            for i in 0..<args.count {
                value = try args.evaluate(i)
                if isTrue(value) { break }
            }
            return value
        },
        "eq": TemplateFunction(2, nil) { args throws(TemplateError) in
            let first = try args.value(0)
            for i in 1..<args.count where try TemplateComparison.equal(first, try args.value(i), function: "eq") {
                return .bool(true)
            }
            return .bool(false)
        },
        "ne": TemplateFunction(2, 2) { args throws(TemplateError) in
            .bool(!(try TemplateComparison.equal(try args.value(0), try args.value(1), function: "ne")))
        },
        "lt": TemplateFunction(2, 2) { args throws(TemplateError) in
            .bool(try TemplateComparison.less(try args.value(0), try args.value(1), function: "lt"))
        },
        "le": TemplateFunction(2, 2) { args throws(TemplateError) in
            let (a, b) = (try args.value(0), try args.value(1))
            if try TemplateComparison.less(a, b, function: "le") { return .bool(true) }
            return .bool(try TemplateComparison.equal(a, b, function: "le"))
        },
        "gt": TemplateFunction(2, 2) { args throws(TemplateError) in
            .bool(try TemplateComparison.less(try args.value(1), try args.value(0), function: "gt"))
        },
        "ge": TemplateFunction(2, 2) { args throws(TemplateError) in
            let (a, b) = (try args.value(0), try args.value(1))
            if try TemplateComparison.less(b, a, function: "ge") { return .bool(true) }
            return .bool(try TemplateComparison.equal(a, b, function: "ge"))
        },
    ]

    /// Go's truth: false, 0, nil, and empty strings, lists and maps are false.
    static func isTrue(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let b)?: return b
        case .number(let n)?: return (Double(n) ?? 1) != 0
        case .string(let s)?: return !s.isEmpty
        case .array(let items)?: return !items.isEmpty
        case .object(let members)?: return !members.isEmpty
        }
    }

    /// "a string", "a number", ... for messages.
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a bool"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "a map"
        }
    }

    /// Lists by position, maps by key (a missing key gives nil, as a Go map's
    /// zero value), strings by byte.
    static func index(_ item: JSONValue, by key: JSONValue) throws(TemplateError) -> JSONValue {
        switch item {
        case .null:
            return .null
        case .object:
            guard let name = key.string else { throw TemplateError("index: a map's key should be a string, not \(describe(key))") }
            return item[name] ?? .null
        case .array(let items):
            guard case .number(let text) = key, let position = Int(text) else {
                throw TemplateError("index: a list's index should be an integer, not \(describe(key))")
            }
            guard items.indices.contains(position) else { throw TemplateError("index: \(position) is out of range for a list of \(items.count)") }
            return items[position]
        case .string(let text):
            let bytes = Array(text.utf8)
            guard case .number(let number) = key, let position = Int(number) else {
                throw TemplateError("index: a string's index should be an integer, not \(describe(key))")
            }
            guard bytes.indices.contains(position) else { throw TemplateError("index: \(position) is out of range for a string of \(bytes.count) bytes") }
            return .number(String(bytes[position]))
        default:
            throw TemplateError("index: cannot index \(describe(item))")
        }
    }

    /// strings.Split: an empty separator splits after each character.
    static func split(_ text: String, by separator: String) -> [String] {
        if separator.isEmpty { return text.map(String.init) }
        let bytes = Array(text.utf8)
        let needle = Array(separator.utf8)
        var parts: [String] = []
        var start = 0
        var i = 0
        while i + needle.count <= bytes.count {
            if bytes[i..<i + needle.count].elementsEqual(needle) {
                parts.append(String(decoding: bytes[start..<i], as: UTF8.self))
                i += needle.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        return parts
    }

    /// strings.Title: the first letter of each word in upper case; words are
    /// separated by anything but letters, digits and `_`.
    static func title(_ text: String) -> String {
        var out = ""
        var previousSeparates = true
        for character in text {
            out += previousSeparates ? character.uppercased() : String(character)
            previousSeparates = !(character.isLetter || character.isNumber || character == "_")
        }
        return out
    }
}
