extension JSONValue {
    /// Indented JSON as Docker writes it (Go's json.MarshalIndent): `"Key": value`,
    /// one member or element per line, `[]` and `{}` when empty, keys in
    /// their stored order.
    public func pretty(indent: Int = 4) -> String {
        var out = ""
        writePretty(to: &out, unit: String(repeating: " ", count: indent), depth: 0)
        return out
    }

    private func writePretty(to out: inout String, unit: String, depth: Int) {
        switch self {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += String(repeating: unit, count: depth + 1)
                item.writePretty(to: &out, unit: unit, depth: depth + 1)
                out += i < items.count - 1 ? ",\n" : "\n"
            }
            out += String(repeating: unit, count: depth) + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            for (i, (key, value)) in members.enumerated() {
                out += String(repeating: unit, count: depth + 1)
                JSONValue.quote(key, into: &out)
                out += ": "
                value.writePretty(to: &out, unit: unit, depth: depth + 1)
                out += i < members.count - 1 ? ",\n" : "\n"
            }
            out += String(repeating: unit, count: depth) + "}"
        default:
            out += serialized
        }
    }
}
