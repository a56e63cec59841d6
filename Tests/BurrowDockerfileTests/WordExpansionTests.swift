@testable import BurrowDockerfile
import Testing

struct WordExpansionTests {
    static let values = ["NAME": "World", "EMPTY": "", "SPACE": "a b"]
    let expansion = WordExpansion { WordExpansionTests.values[$0] }

    static let words: [(String, String)] = [
        ("$NAME", "World"),
        ("${NAME}", "World"),
        ("hello-${NAME}!", "hello-World!"),
        ("$MISSING", ""),
        ("${MISSING:-dflt}", "dflt"),
        ("${EMPTY:-dflt}", "dflt"),
        ("${EMPTY-dflt}", ""),
        ("${MISSING-dflt}", "dflt"),
        ("${NAME:+set}", "set"),
        ("${MISSING:+set}", ""),
        ("${MISSING:-${NAME}}", "World"),
        ("'$NAME'", "$NAME"),
        ("\"$NAME and $SPACE\"", "World and a b"),
        ("\\$NAME", "$NAME"),
        ("a\\ b", "a b"),
        ("\"a \\\"q\\\" b\"", "a \"q\" b"),
        ("$", "$"),
        ("cost$", "cost$"),
    ]

    @Test(arguments: words)
    func expandsAsBuildKit(text: String, expected: String) throws {
        #expect(try expansion.word(text) == expected)
    }

    @Test func splitsOutsideQuotes() throws {
        #expect(try expansion.words("a \"b c\" 'd e' f\\ g") == ["a", "b c", "d e", "f g"])
    }

    @Test func backtickEscape() throws {
        let windows = WordExpansion(escape: "`") { WordExpansionTests.values[$0] }
        #expect(try windows.word("c:\\dir\\`$NAME") == "c:\\dir\\$NAME")
    }

    @Test func failures() {
        #expect(throws: WordExpansion.Failure.self) { try expansion.word("${MISSING:?must be set}") }
        #expect(throws: WordExpansion.Failure.self) { try expansion.word("${NAME") }
        #expect(throws: WordExpansion.Failure.self) { try expansion.word("'open") }
        #expect(throws: WordExpansion.Failure.self) { try expansion.word("${NAME%suffix}") }
    }
}

extension WordExpansionTests {
    /// A COPY heredoc's body: variables expand, quotes and backslashes stay.
    @Test(arguments: [
        ("hello $NAME\n", "hello World\n"),
        ("'$NAME' \"${NAME}\"\n", "'World' \"World\"\n"),
        ("keep \\$NAME and C:\\\\path\\n", "keep $NAME and C:\\\\path\\n"),
        ("${MISSING:-none} $ end\n", "none $ end\n"),
    ])
    func heredocBodiesExpandOnlyVariables(text: String, expected: String) throws {
        #expect(try expansion.text(text) == expected)
    }
}
