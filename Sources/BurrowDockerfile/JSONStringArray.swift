/// The exec form's JSON array of strings (`["python", "app.py"]`), read
/// without Foundation; nil when the text is not exactly such an array, in
/// which case Docker reads the instruction in shell form.
enum JSONStringArray {
    static func parse(_ text: String) -> [String]? {
        var scalars = Array(text.unicodeScalars)[...]
        func skipSpace() { while let c = scalars.first, c == " " || c == "\t" || c == "\n" || c == "\r" { scalars.removeFirst() } }
        skipSpace()
        guard scalars.popFirst() == "[" else { return nil }
        var result: [String] = []
        skipSpace()
        if scalars.first == "]" {
            scalars.removeFirst()
            skipSpace()
            return scalars.isEmpty ? [] : nil
        }
        while true {
            skipSpace()
            guard scalars.popFirst() == "\"" else { return nil }
            var value = String.UnicodeScalarView()
            while true {
                guard let c = scalars.popFirst() else { return nil }
                if c == "\"" { break }
                if c != "\\" {
                    value.append(c)
                    continue
                }
                guard let e = scalars.popFirst() else { return nil }
                switch e {
                case "\"", "\\", "/": value.append(e)
                case "b": value.append("\u{8}")
                case "f": value.append("\u{C}")
                case "n": value.append("\n")
                case "r": value.append("\r")
                case "t": value.append("\t")
                case "u":
                    guard scalars.count >= 4, let code = UInt32(String(String.UnicodeScalarView(scalars.prefix(4))), radix: 16),
                          let scalar = Unicode.Scalar(code) else { return nil }
                    scalars.removeFirst(4)
                    value.append(scalar)
                default: return nil
                }
            }
            result.append(String(value))
            skipSpace()
            switch scalars.popFirst() {
            case ",": continue
            case "]":
                skipSpace()
                return scalars.isEmpty ? result : nil
            default: return nil
            }
        }
    }
}
