import BurrowOCI
import FoundationEssentials
import Testing

struct JSONValueTests {
    @Test func parsesAndSerializesBack() throws {
        let text = #"{"a":[1,-2.5e3,true,false,null],"b":"q\"\\\/\n\t\u00e9\ud83d\ude00","c":{}}"#
        let value = try JSONValue(parsing: Array(text.utf8))
        #expect(value["a"]?.array?.count == 5)
        #expect(value["b"]?.string == "q\"\\/\n\té😀")
        #expect(value["c"]?.members?.isEmpty == true)
        let again = try JSONValue(parsing: Array(value.serialized.utf8))
        #expect(again == value)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "{} x", "[\"\\q\"]", "-"])
    func refusesBrokenDocuments(text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: Array(text.utf8)) }
    }

    /// The fast reader of an image's run settings must agree with Codable.
    @Test func runSettingsAgreeWithCodable() throws {
        let json = """
        {"architecture":"amd64","os":"linux","config":{"User":"app","Env":["PATH=/bin","A=\\u00e9"],"Entrypoint":["/init"],
         "Cmd":["serve"],"WorkingDir":"/srv","ExposedPorts":{"80/tcp":{}},"Volumes":{"/data":{}},"Labels":{"k":"v"},
         "StopSignal":"SIGQUIT","ArgsEscaped":true,"Shell":["/bin/bash","-c"],"OnBuild":["RUN x"]},
         "rootfs":{"type":"layers","diff_ids":[]}}
        """
        let codable = try JSONDecoder().decode(ImageConfiguration.self, from: Data(json.utf8)).config
        let fast = ContainerConfiguration(configurationDocument: try JSONValue(parsing: Array(json.utf8)))
        #expect(fast == codable)
        #expect(ContainerConfiguration(configurationDocument: try JSONValue(parsing: Array(#"{"config":null}"#.utf8))) == ContainerConfiguration())
    }
}
