import BurrowOCI

/// `eq`, `lt` and the rest: Go compares basic values of the same kind, and
/// refuses other pairs. Numbers compare by value whatever their spelling.
enum TemplateComparison {
    static func equal(_ a: JSONValue, _ b: JSONValue, function: String) throws(TemplateError) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.null, _), (_, .null): return false
        case let (.bool(x), .bool(y)): return x == y
        case let (.string(x), .string(y)): return x.utf8.elementsEqual(y.utf8)
        case let (.number(x), .number(y)): return compareNumbers(x, y) == 0
        case (.array, _), (.object, _), (_, .array), (_, .object):
            throw TemplateError("\(function): cannot compare \(TemplateFunctions.describe(a)) with \(TemplateFunctions.describe(b))")
        default:
            throw TemplateError("\(function): incompatible types for comparison: \(TemplateFunctions.describe(a)) and \(TemplateFunctions.describe(b))")
        }
    }

    static func less(_ a: JSONValue, _ b: JSONValue, function: String) throws(TemplateError) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): return x.utf8.lexicographicallyPrecedes(y.utf8)
        case let (.number(x), .number(y)): return compareNumbers(x, y) < 0
        case (.number, _), (.string, _):
            throw TemplateError("\(function): incompatible types for comparison: \(TemplateFunctions.describe(a)) and \(TemplateFunctions.describe(b))")
        default:
            throw TemplateError("\(function): cannot order \(TemplateFunctions.describe(a))")
        }
    }

    /// -1, 0 or 1; integers exactly, anything else as doubles.
    private static func compareNumbers(_ x: String, _ y: String) -> Int {
        if let i = Int64(x), let j = Int64(y) { return i < j ? -1 : (i == j ? 0 : 1) }
        let (d, e) = (Double(x) ?? .nan, Double(y) ?? .nan)
        return d < e ? -1 : (d == e ? 0 : 1)
    }
}
