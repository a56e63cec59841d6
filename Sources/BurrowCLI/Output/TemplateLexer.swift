/// A template cut into text and actions as Go's text/template lexer cuts it:
/// trim markers (`{{- ` and ` -}}`) already applied, comments dropped.
enum TemplatePiece {
    case text(String)
    /// The tokens between `{{` and `}}`; the offset is where `{{` starts.
    case action([TemplateToken], offset: Int)
}

struct TemplateToken {
    enum Kind: Equatable {
        case dot
        case field(String)
        case variable(String)
        case identifier(String)
        case string(String)
        /// Normalized: integers in decimal, character constants as their code point.
        case number(String)
        case pipe, leftParen, rightParen, comma, declare, assign
    }

    let kind: Kind
    let offset: Int
    /// Whitespace came before it: `.A .B` are two operands, `.A.B` one.
    let spaced: Bool

    var spelling: String {
        switch kind {
        case .dot: return "."
        case .field(let name): return "." + name
        case .variable(let name), .identifier(let name), .number(let name): return name
        case .string(let text): return GoFormat.quote(text)
        case .pipe: return "|"
        case .leftParen: return "("
        case .rightParen: return ")"
        case .comma: return ","
        case .declare: return ":="
        case .assign: return "="
        }
    }
}

struct TemplateLexer {
    private let bytes: [UInt8]
    private var index = 0

    static func pieces(of source: String) throws(TemplateError) -> [TemplatePiece] {
        var lexer = TemplateLexer(bytes: Array(source.utf8))
        return try lexer.pieces()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func pieces() throws(TemplateError) -> [TemplatePiece] {
        var pieces: [TemplatePiece] = []
        var trimNextText = false
        while index <= bytes.count {
            let open = find("{{", from: index) ?? bytes.count
            // `\t` and `\n` typed in the template: Docker's formatter replaces
            // them before Go sees the text, so a trim marker trims them too.
            var text = String(decoding: bytes[index..<open], as: UTF8.self).replacingEscapes()[...]
            if trimNextText { text = text.drop { $0.isTemplateSpace } }
            guard open < bytes.count else {
                if !text.isEmpty { pieces.append(.text(String(text))) }
                break
            }
            index = open + 2
            if at("-"), index + 1 < bytes.count, bytes[index + 1].isTemplateSpace {
                while let last = text.last, last.isTemplateSpace { text = text.dropLast() }
                index += 2
            }
            if !text.isEmpty { pieces.append(.text(String(text))) }
            if at("/*") {
                trimNextText = try skipComment(openedAt: open)
                continue
            }
            var tokens: [TemplateToken] = []
            var spaced = false
            while true {
                guard index < bytes.count else { throw TemplateError("unclosed action: add }}", at: open) }
                if bytes[index].isTemplateSpace {
                    if at("-}}", offset: 1) {
                        index += 4
                        trimNextText = true
                        break
                    }
                    index += 1
                    spaced = true
                    continue
                }
                if at("}}") {
                    index += 2
                    trimNextText = false
                    break
                }
                let start = index
                let kind = try token()
                tokens.append(TemplateToken(kind: kind, offset: start, spaced: spaced))
                spaced = false
            }
            pieces.append(.action(tokens, offset: open))
        }
        return pieces
    }

    /// `{{/* ... */}}`; returns whether it ends with a trim marker.
    private mutating func skipComment(openedAt open: Int) throws(TemplateError) -> Bool {
        guard let end = find("*/", from: index + 2) else { throw TemplateError("unclosed comment: add */}}", at: open) }
        index = end + 2
        if at("}}") {
            index += 2
            return false
        }
        if index < bytes.count, bytes[index].isTemplateSpace, at("-}}", offset: 1) {
            index += 4
            return true
        }
        throw TemplateError("comment ends before the closing }}", at: open)
    }

    private mutating func token() throws(TemplateError) -> TemplateToken.Kind {
        let start = index
        let c = bytes[index]
        index += 1
        switch c {
        case UInt8(ascii: "|"): return .pipe
        case UInt8(ascii: "("): return .leftParen
        case UInt8(ascii: ")"): return .rightParen
        case UInt8(ascii: ","): return .comma
        case UInt8(ascii: "="): return .assign
        case UInt8(ascii: ":"):
            guard at("=") else { throw TemplateError("expected := after :", at: start) }
            index += 1
            return .declare
        case UInt8(ascii: "\""): return .string(try quoted(from: start))
        case UInt8(ascii: "`"):
            guard let end = find("`", from: index) else { throw TemplateError("unterminated raw quoted string", at: start) }
            defer { index = end + 1 }
            return .string(String(decoding: bytes[index..<end], as: UTF8.self))
        case UInt8(ascii: "'"): return .number(try character(from: start))
        case UInt8(ascii: "."):
            if index < bytes.count, bytes[index].isDigit { return .number(try number(from: start)) }
            let name = word()
            return name.isEmpty ? .dot : .field(name)
        case UInt8(ascii: "$"): return .variable("$" + word())
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index < bytes.count, bytes[index].isDigit || bytes[index] == UInt8(ascii: ".") else {
                throw TemplateError("unexpected \"\(Character(Unicode.Scalar(c)))\" in an action", at: start)
            }
            return .number(try number(from: start))
        case _ where c.isDigit: return .number(try number(from: start))
        case _ where c.isWordByte:
            index -= 1
            return .identifier(word())
        default:
            index -= 1
            let character = String(decoding: bytes[index...].prefix(4), as: UTF8.self).first.map(String.init) ?? "?"
            throw TemplateError("unexpected \"\(character)\" in an action", at: start)
        }
    }

    private mutating func word() -> String {
        let start = index
        while index < bytes.count, bytes[index].isWordByte { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Go number syntax, restricted to what a template needs: decimal
    /// integers and floats, and hexadecimal integers.
    private mutating func number(from start: Int) throws(TemplateError) -> String {
        while index < bytes.count {
            let c = bytes[index]
            let sign = (c == UInt8(ascii: "+") || c == UInt8(ascii: "-"))
                && (bytes[index - 1] == UInt8(ascii: "e") || bytes[index - 1] == UInt8(ascii: "E"))
            guard c.isWordByte || c == UInt8(ascii: ".") || sign else { break }
            index += 1
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        var digits = Substring(text)
        let negative = digits.first == "-"
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        if digits.lowercased().hasPrefix("0x"), let value = Int64(digits.dropFirst(2), radix: 16) {
            return String(negative ? -value : value)
        }
        if digits.allSatisfy(\.isASCIIDigit), let value = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text) {
            return String(value)
        }
        if !digits.lowercased().contains("x"), !digits.lowercased().contains("n"), let value = Double(text) {
            if value == value.rounded(), abs(value) < 9.2e18 { return String(Int64(value)) }
            return String(value)
        }
        throw TemplateError("bad number syntax: \(text)", at: start)
    }

    /// A Go interpreted string literal, without its quotes.
    private mutating func quoted(from start: Int) throws(TemplateError) -> String {
        var out: [UInt8] = []
        while true {
            guard index < bytes.count, bytes[index] != UInt8(ascii: "\n") else {
                throw TemplateError("unterminated quoted string", at: start)
            }
            let c = bytes[index]
            index += 1
            if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\") {
                try escape(into: &out, from: start)
            } else {
                out.append(c)
            }
        }
    }

    /// `'a'`, `'\n'`: Go's character constants are numbers.
    private mutating func character(from start: Int) throws(TemplateError) -> String {
        var out: [UInt8] = []
        while index < bytes.count, bytes[index] != UInt8(ascii: "'"), bytes[index] != UInt8(ascii: "\n") {
            let c = bytes[index]
            index += 1
            if c == UInt8(ascii: "\\") { try escape(into: &out, from: start) } else { out.append(c) }
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "'") else {
            throw TemplateError("unterminated character constant", at: start)
        }
        index += 1
        let scalars = String(decoding: out, as: UTF8.self).unicodeScalars
        guard scalars.count == 1, let scalar = scalars.first else {
            throw TemplateError("a character constant holds one character", at: start)
        }
        return String(scalar.value)
    }

    private mutating func escape(into out: inout [UInt8], from start: Int) throws(TemplateError) {
        guard index < bytes.count else { throw TemplateError("unterminated quoted string", at: start) }
        let c = bytes[index]
        index += 1
        switch c {
        case UInt8(ascii: "a"): out.append(7)
        case UInt8(ascii: "b"): out.append(8)
        case UInt8(ascii: "f"): out.append(12)
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "r"): out.append(13)
        case UInt8(ascii: "t"): out.append(9)
        case UInt8(ascii: "v"): out.append(11)
        case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(c)
        case UInt8(ascii: "x"): out.append(UInt8(try hex(digits: 2, from: start)))
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let value = try hex(digits: c == UInt8(ascii: "u") ? 4 : 8, from: start)
            guard let scalar = Unicode.Scalar(value) else { throw TemplateError("invalid \\u escape in a string", at: start) }
            out.append(contentsOf: Array(String(scalar).utf8))
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            index -= 1
            var value = 0
            for _ in 0..<3 {
                guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(bytes[index]) else {
                    throw TemplateError("invalid octal escape in a string", at: start)
                }
                value = value * 8 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard value < 256 else { throw TemplateError("invalid octal escape in a string", at: start) }
            out.append(UInt8(value))
        default:
            throw TemplateError("unknown escape \\\(Character(Unicode.Scalar(c))) in a string", at: start)
        }
    }

    private mutating func hex(digits: Int, from start: Int) throws(TemplateError) -> UInt32 {
        guard index + digits <= bytes.count,
              let value = UInt32(String(decoding: bytes[index..<index + digits], as: UTF8.self), radix: 16) else {
            throw TemplateError("invalid hexadecimal escape in a string", at: start)
        }
        index += digits
        return value
    }

    private func at(_ text: StaticString, offset: Int = 0) -> Bool {
        let start = index + offset
        let count = text.utf8CodeUnitCount
        guard start + count <= bytes.count else { return false }
        for i in 0..<count where bytes[start + i] != text.utf8Start[i] { return false }
        return true
    }

    private func find(_ needle: StaticString, from start: Int) -> Int? {
        let count = needle.utf8CodeUnitCount
        var i = start
        while i + count <= bytes.count {
            var matches = true
            for j in 0..<count where bytes[i + j] != needle.utf8Start[j] {
                matches = false
                break
            }
            if matches { return i }
            i += 1
        }
        return nil
    }
}

private extension UInt8 {
    /// Go's template space characters.
    var isTemplateSpace: Bool { self == 32 || self == 9 || self == 10 || self == 13 }
    var isDigit: Bool { (48...57).contains(self) }
    /// Letters, digits and `_`; bytes of non-ASCII characters count as letters.
    var isWordByte: Bool { isDigit || (65...90).contains(self) || (97...122).contains(self) || self == 95 || self >= 0x80 }
}

extension Character {
    var isTemplateSpace: Bool { self == " " || self == "\t" || self == "\n" || self == "\r" || self == "\r\n" }
    var isASCIIDigit: Bool { isASCII && isNumber }
}
