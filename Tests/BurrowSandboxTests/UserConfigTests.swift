import BurrowSystem
import Testing

/// burrow.conf: `key = value` lines, comments, and errors that name the line.
struct UserConfigTests {
    @Test func readsKeysCommentsAndQuotes() throws {
        let config = try UserConfig.parse("# burrow settings\n\n  host-ca = false   # behind no proxy\n", path: "/c/burrow.conf")
        #expect(config.setting("host-ca")?.value == "false")
        #expect(config.setting("host-ca")?.place == "/c/burrow.conf:3")
        #expect(try UserConfig.parse("host-ca=\"true\"\n", path: "f").setting("host-ca")?.value == "true")
        #expect(try UserConfig.parse("", path: "f").setting("host-ca") == nil)
    }

    @Test(arguments: [("host-ca\n", "f:1: expected key = value"), ("\n= true\n", "f:2: expected key = value"),
                      ("host_ca = true\n", "f:1: unknown setting host_ca: the file knows host-ca")])
    func aBadLineIsNamed(_ text: String, _ message: String) {
        #expect {
            try UserConfig.parse(text, path: "f")
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
