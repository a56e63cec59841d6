import BurrowSystem
import FoundationEssentials

/// `--format`: "json" for one JSON object per line, "table" for the default
/// table, or a Go-style template whose `{{.Field}}` and `{{json .}}` are
/// filled from the row.
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

    /// Fills a template from an ordered list of fields.
    static func fill(_ template: String, _ fields: [(key: String, value: String)], json: String) throws -> String {
        var output = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw BurrowError.invalidArgument("template \"\(template)\" has an unclosed {{")
            }
            let expression = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
            if expression == "json ." {
                output += json
            } else if expression.hasPrefix("."), let value = fields.first(where: { $0.key == String(expression.dropFirst()) })?.value {
                output += value
            } else {
                let names = fields.map { "." + $0.key }.joined(separator: " ")
                throw BurrowError.invalidArgument("template field \(expression) is unknown: use one of \(names)")
            }
            rest = rest[close.upperBound...]
        }
        output += rest
        return output.replacingEscapes()
    }
}

extension Substring {
    func range(of needle: String) -> Range<Substring.Index>? {
        guard let first = needle.first else { return nil }
        var index = startIndex
        while index < endIndex {
            if self[index] == first && self[index...].hasPrefix(needle) {
                return index..<self.index(index, offsetBy: needle.count)
            }
            index = self.index(after: index)
        }
        return nil
    }

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
    static func encode<T: Encodable>(_ value: T, pretty: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
