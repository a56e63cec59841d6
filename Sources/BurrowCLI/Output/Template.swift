import BurrowOCI
import BurrowSystem
import FoundationEssentials

/// `--format`: "json" for one JSON object per line, "table" for the default
/// table, or a Go text/template filled from the row (TemplateParser.swift,
/// TemplateEvaluator.swift).
enum OutputFormat {
    case table
    case json
    case template(String)

    init(_ text: String?) {
        switch text {
        case nil, "", "table": self = .table
        case "json", "{{json .}}": self = .json
        case let template?: self = .template(template.hasPrefix("table ") ? String(template.dropFirst(6)) : template)
        }
    }

    /// Runs a template over a row or document.
    static func fill(_ template: String, _ data: JSONValue, missingFields: MissingFields = .noValue) throws -> String {
        do throws(TemplateError) {
            return try Template(parsing: template).render(data, missingFields: missingFields)
        } catch {
            throw error.burrowError(in: template)
        }
    }
}

extension Substring {
    func trimmingCharacters(in set: WhitespaceSet) -> String { String(self).trimmingCharacters(in: set) }
}

extension String {
    /// `\t` and `\n` typed in a template.
    func replacingEscapes() -> String {
        var result = ""
        var iterator = makeIterator()
        while let c = iterator.next() {
            if c == "\\", let next = iterator.next() {
                switch next {
                case "t": result.append("\t")
                case "n": result.append("\n")
                default: result.append(c); result.append(next)
                }
            } else {
                result.append(c)
            }
        }
        return result
    }
}

/// JSON for output: keys sorted (the same bytes every time), no escaped slashes.
enum JSONOutput {
    /// `inspect`'s output: each object's filled template on its own line, or
    /// the array of the objects found (none printed when every one failed).
    static func printInspected(_ documents: [JSONValue], filled: [String], templated: Bool, failed: Bool, context: Context) {
        if templated {
            for text in filled { context.out(text) }
        } else if !documents.isEmpty || !failed {
            context.out(JSONValue.array(documents).pretty())
        }
    }

    static func encode<T: Encodable>(_ value: T, pretty: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The value as the JSON a template runs over, keys sorted.
    static func document<T: Encodable>(_ value: T) throws -> JSONValue {
        let text = try encode(value, pretty: false)
        do {
            return try JSONValue(parsing: Array(text.utf8))
        } catch {
            throw BurrowError.engine("reading back the JSON of \(T.self): \(error)")
        }
    }
}
