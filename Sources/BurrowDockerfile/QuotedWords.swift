/// Splits an instruction's arguments at whitespace outside quotes, keeping
/// the quotes and escapes in each word: the executor expands the words
/// (WordExpansion), which removes them.
enum QuotedWords {
    struct Unterminated: Error, CustomStringConvertible {
        let quote: Character
        var description: String { "unterminated quote \(quote)" }
    }

    static func split(_ text: String, escape: Character) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var escaped = false
        for c in text {
            if escaped {
                current.append(c)
                escaped = false
                continue
            }
            if c == escape && quote != "'" {
                current.append(c)
                escaped = true
                inWord = true
                continue
            }
            if let open = quote {
                current.append(c)
                if c == open { quote = nil }
                continue
            }
            if c == " " || c == "\t" || c == "\n" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
                continue
            }
            if c == "\"" || c == "'" { quote = c }
            current.append(c)
            inWord = true
        }
        if let quote { throw Unterminated(quote: quote) }
        if inWord { words.append(current) }
        return words
    }
}
