import BurrowOCI
import Testing

/// `burrow inspect` prints JSON as Docker does (Go's json.MarshalIndent with four spaces).
struct JSONValuePrettyTests {
    @Test func indentsAsDockerDoes() throws {
        let text = #"{"Id":"sha256:ab","Tags":["a:1","b/c:2"],"Empty":[],"None":{},"Null":null,"Config":{"Tty":false,"Size":1982357,"Env":["A=\"x\"\n"]},"Ratio":-2.5e3}"#
        let expected = """
            {
                "Id": "sha256:ab",
                "Tags": [
                    "a:1",
                    "b/c:2"
                ],
                "Empty": [],
                "None": {},
                "Null": null,
                "Config": {
                    "Tty": false,
                    "Size": 1982357,
                    "Env": [
                        "A=\\"x\\"\\n"
                    ]
                },
                "Ratio": -2.5e3
            }
            """
        #expect(try JSONValue(parsing: Array(text.utf8)).pretty() == expected)
    }

    @Test(arguments: [
        ("[]", "[]"),
        ("{}", "{}"),
        ("\"x\"", "\"x\""),
        ("7", "7"),
        ("[[],[1]]", "[\n  [],\n  [\n    1\n  ]\n]"),
    ])
    func smallDocumentsWithTwoSpaces(text: String, expected: String) throws {
        #expect(try JSONValue(parsing: Array(text.utf8)).pretty(indent: 2) == expected)
    }

    @Test func prettyTextReadsBackTheSame() throws {
        let value = try JSONValue(parsing: Array(#"{"a":[{"b":[]},{"c":{"d":"\u00e9\t"}}],"e":true}"#.utf8))
        #expect(try JSONValue(parsing: Array(value.pretty().utf8)) == value)
    }
}
