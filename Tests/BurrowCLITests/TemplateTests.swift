import BurrowOCI
@testable import BurrowCLI
import BurrowSystem
import Testing

/// `--format` templates, with the output Docker's CLI gives for the same
/// template over the same JSON.
struct TemplateTests {
    static let document = try! JSONValue(parsing: Array("""
        {"Id":"sha256:abc","RepoTags":["busybox:latest","busybox:1"],"Size":1982357,"Ratio":0.5,"Count":3,
         "Config":{"Cmd":["sh"],"Env":["PATH=/bin","A=1"],"Entrypoint":null,"Labels":{"b":"2","a":"1"},"Tty":false,"User":""},
         "Empty":[],"Nothing":{},"Name":"hello world"}
        """.utf8))

    static func fill(_ template: String) throws -> String { try OutputFormat.fill(template, document) }

    @Test(arguments: [
        ("{{.Id}}", "sha256:abc"),
        ("{{ .Id }}", "sha256:abc"),
        ("{{.Config.Cmd}}", "[sh]"),
        ("{{.Config.Env}}", "[PATH=/bin A=1]"),
        ("{{.Config.Labels}}", "map[a:1 b:2]"),
        ("{{.Config.Entrypoint}}", "<nil>"),
        ("{{.Config.Tty}}", "false"),
        ("{{.Config.User}}", ""),
        ("{{.Size}} {{.Ratio}}", "1982357 0.5"),
        ("{{.Empty}} {{.Nothing}}", "[] map[]"),
        ("{{.Nope}}", "<no value>"),
        ("{{.Config.Nope.Deeper}}", "<no value>"),
        ("{{.Config.Entrypoint.Name}}", "<no value>"),
        ("{{$.Id}}", "sha256:abc"),
        ("{{(index .Config \"Labels\").a}}", "1"),
        ("{{.Config.Labels.b}}", "2"),
    ])
    func fields(template: String, expected: String) throws {
        #expect(try Self.fill(template) == expected)
    }

    @Test func dotPrintsTheWholeValue() throws {
        let value = try JSONValue(parsing: Array(#"{"b":[1,{"y":null,"x":true}],"a":"s"}"#.utf8))
        #expect(try OutputFormat.fill("{{.}}", value) == "map[a:s b:[1 map[x:true y:<nil>]]]")
    }

    @Test(arguments: [
        ("{{json .Config.Labels}}", #"{"b":"2","a":"1"}"#),
        ("{{.Config.Env | json}}", #"["PATH=/bin","A=1"]"#),
        ("{{json .Nope}}", "null"),
        ("{{json .Name}}", #""hello world""#),
        ("{{join .RepoTags \", \"}}", "busybox:latest, busybox:1"),
        ("{{join .Config.Entrypoint \",\"}}", ""),
        ("{{split .Id \":\"}}", "[sha256 abc]"),
        ("{{split \"a,,b\" \",\"}}", "[a  b]"),
        ("{{index (split .Id \":\") 1}}", "abc"),
        ("{{lower \"ABC\"}} {{upper .Name}} {{title .Name}}", "abc HELLO WORLD Hello World"),
        ("{{title \"it's a_b-c\"}}", "It'S A_b-C"),
        ("{{truncate .Id 6}}|{{truncate \"ab\" 5}}", "sha256|ab"),
        ("{{pad \"x\" 2 1}}|{{pad .Config.User 1 1}}|", "  x ||"),
        ("{{index .Config.Labels \"a\"}} {{index .Config.Labels \"zz\"}} {{index .RepoTags 1}}", "1 <nil> busybox:1"),
        ("{{index .}}", "map[Config:map[Cmd:[sh] Entrypoint:<nil> Env:[PATH=/bin A=1] Labels:map[a:1 b:2] Tty:false User:] Count:3 Empty:[] Id:sha256:abc Name:hello world Nothing:map[] Ratio:0.5 RepoTags:[busybox:latest busybox:1] Size:1982357]"),
        ("{{index . \"Config\" \"Cmd\" 0}}", "sh"),
        ("{{len .RepoTags}} {{len .Config.Labels}} {{len .Name}} {{len .Config.Entrypoint}}", "2 2 11 0"),
        ("{{printf \"%s has %d tags\" .Id (len .RepoTags)}}", "sha256:abc has 2 tags"),
        ("{{printf \"%v %q %v\" .Config.Cmd .Name .Config.Entrypoint}}", #"[sh] "hello world" <nil>"#),
        ("{{printf \"%-6s|%5d|%05d|%+d|%.3s|%%\" \"ab\" 42 7 3 .Name}}", "ab    |   42|00007|+3|hel|%"),
        ("{{printf \"%q\" .RepoTags}}", #"["busybox:latest" "busybox:1"]"#),
        ("{{printf \"%q\" \"a\\tb\\\"\"}}", #""a\tb\"""#),
        ("{{printf \"%d\"}}|{{printf \"%d\" \"x\"}}|{{printf \"x\" 1}}", "%!d(MISSING)|%!d(string=x)|x%!(EXTRA int=1)"),
        ("{{print \"a\" \"b\" 1 2 \"c\" true false}}", "ab1 2ctrue false"),
        ("{{println \"a\" 1}}", "a 1\n"),
        ("{{eq .Config.User \"\"}} {{ne .Count 3}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2}}", "true false true true true false"),
        ("{{eq .Count 1 2 3}} {{eq .Size 1982357.0}} {{eq .Nope \"x\"}} {{eq .Config.Entrypoint nil}}", "true true false true"),
        ("{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" \"x\"}} [{{or 0 \"\"}}] {{not .Empty}} {{not .Name}}", "0 2 x [] true false"),
        ("{{and .Empty (index .Empty 5)}} {{or .Id (index .Empty 5)}}", "[] sha256:abc"),
    ])
    func functions(template: String, expected: String) throws {
        #expect(try Self.fill(template) == expected)
    }

    @Test(arguments: [
        ("{{.Name | printf \"%s!\"}}", "hello world!"),
        ("{{.Name | upper | printf \"%q\"}}", "\"HELLO WORLD\""),
        ("{{.RepoTags | len}}", "2"),
        ("{{upper (index .RepoTags 0)}}", "BUSYBOX:LATEST"),
        ("{{len (split (index .RepoTags 0) \":\")}}", "2"),
        ("{{\"a\\tb\"}}|{{`raw\\n`}}|{{'a'}}|{{0x10}}|{{-3}}|{{1e3}}|{{2.50}}|{{true}}", "a\tb|raw\\n|97|16|-3|1000|2.5|true"),
    ])
    func pipelinesAndLiterals(template: String, expected: String) throws {
        #expect(try Self.fill(template) == expected)
    }

    @Test(arguments: [
        ("{{if .Config.Tty}}tty{{else if .Config.Cmd}}cmd{{else}}none{{end}}", "cmd"),
        ("{{if .Nope}}yes{{else}}no{{end}}", "no"),
        ("{{if eq .Count 3}}three{{end}}", "three"),
        ("{{if and .Name (not .Empty)}}both{{end}}", "both"),
        ("{{range .RepoTags}}[{{.}}]{{end}}", "[busybox:latest][busybox:1]"),
        ("{{range $i, $t := .RepoTags}}{{$i}}={{$t}} {{end}}", "0=busybox:latest 1=busybox:1 "),
        ("{{range $v := .RepoTags}}{{$v}},{{end}}", "busybox:latest,busybox:1,"),
        ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a=1;b=2;"),
        ("{{range .Config.Labels}}{{.}}{{end}}", "12"),
        ("{{range .Empty}}x{{else}}empty{{end}}", "empty"),
        ("{{range .Config.Entrypoint}}x{{else}}none{{end}}", "none"),
        ("{{range .Nope}}x{{else}}missing{{end}}", "missing"),
        ("{{range .RepoTags}}{{$.Count}} {{end}}", "3 3 "),
        ("{{range 3}}{{.}}{{end}}", "012"),
        ("{{range .RepoTags}}{{if eq . \"busybox:1\"}}{{break}}{{end}}{{.}}{{end}}", "busybox:latest"),
        ("{{range .RepoTags}}{{if eq . \"busybox:latest\"}}{{continue}}{{end}}{{.}}{{end}}", "busybox:1"),
        ("{{with .Config}}{{.User}}|{{.Cmd}}{{end}}", "|[sh]"),
        ("{{with .Config.Entrypoint}}x{{else}}no entrypoint{{end}}", "no entrypoint"),
        ("{{with $c := .Config}}{{$c.Cmd}} {{.Tty}}{{end}}", "[sh] false"),
        ("{{with .Nope}}a{{else with .Name}}{{.}}{{end}}", "hello world"),
        ("{{$n := len .RepoTags}}{{$n}} {{$n = 5}}{{$n}}", "2 5"),
        ("{{$x := 1}}{{if true}}{{$x = 2}}{{$y := 3}}{{end}}{{$x}}", "2"),
        ("{{range $i, $t := .RepoTags}}{{if $i}}, {{end}}{{$t}}{{end}}", "busybox:latest, busybox:1"),
    ])
    func actions(template: String, expected: String) throws {
        #expect(try Self.fill(template) == expected)
    }

    @Test(arguments: [
        ("a  {{- .Count -}}  b", "a3b"),
        ("a {{- /* a comment */ -}} b", "ab"),
        ("a{{/* a comment */}}b", "ab"),
        ("{{range .RepoTags}}\n  {{- .}}\n{{end}}", "busybox:latest\nbusybox:1\n"),
        ("{{.Count}}\\t{{.Size}}\\n", "3\t1982357\n"),
        ("{{-3}} {{- 3}}", "-33"),
        ("{{.Count -}}\\n x", "3x"),
    ])
    func trimMarkersCommentsAndEscapes(template: String, expected: String) throws {
        #expect(try Self.fill(template) == expected)
    }

    @Test(arguments: [
        ("{{.Id", "template: 1:1: unclosed action: add }}"),
        ("{{}}", "template: 1:1: empty action: put a value between {{ and }}"),
        ("{{foo .}}", "template: 1:3: function \"foo\" is not defined: use one of and, eq, ge, gt, index, join, json, le, len, lower, lt, ne, not, or, pad, print, printf, println, split, title, truncate, upper"),
        ("{{if .Id}}x", "template: 1:1: {{if}} has no {{end}}"),
        ("x\n{{range .RepoTags}}{{else}}", "template: 2:1: {{range}} has no {{end}}"),
        ("{{end}}", "template: 1:1: unexpected {{end}}"),
        ("{{else}}", "template: 1:1: unexpected {{else}}"),
        ("{{if 1}}{{else}}{{else}}{{end}}", "template: 1:17: {{if}} has a second {{else}}"),
        ("{{end .}}", "template: 1:7: unexpected . in {{end}}"),
        ("{{break}}", "template: 1:1: {{break}} outside {{range}}"),
        ("{{template \"x\"}}", "template: 1:1: {{template}} is not supported"),
        ("{{/* x }}", "template: 1:1: unclosed comment: add */}}"),
        ("{{/* x */ }}", "template: 1:1: comment ends before the closing }}"),
        ("{{\"abc}}", "template: 1:3: unterminated quoted string"),
        ("{{print \"\\q\"}}", "template: 1:9: unknown escape \\q in a string"),
        ("{{1x}}", "template: 1:3: bad number syntax: 1x"),
        ("{{.Id @}}", "template: 1:7: unexpected \"@\" in an action"),
        ("{{$x}}", "template: 1:3: undefined variable $x"),
        ("{{$x = 1}}", "template: 1:3: undefined variable $x"),
        ("{{$a, $b := 1}}", "template: 1:3: too many variables in a declaration: only {{range}} takes two"),
        ("{{print(1)}}", "template: 1:8: missing space between print and ("),
        ("{{(print 1}}", "template: 1:3: unclosed left parenthesis"),
        ("{{print 1)}}", "template: 1:10: unexpected ) in an action"),
        ("{{.Id |}}", "template: 1:7: missing command after |"),
        ("{{.Id | 3}}", "template: 1:9: 3 cannot take the value piped into it: start each stage after | with a function"),
        ("{{\"x\".Id}}", "template: 1:6: unexpected .Id after \"x\": only fields, variables and (...) have fields"),
        ("{{if}}{{end}}", "template: 1:1: missing value for {{if}}"),
        ("{{print if}}", "template: 1:9: unexpected {{if}} inside an action"),
        ("{{nil}}", "template: 1:3: nil is not a command"),
        ("{{.Id .Size}}", "template: 1:3: .Id is not a function: it takes no arguments"),
        ("{{.Id.Foo}}", "template: 1:3: can't evaluate field Foo of .Id: it is a string, not a map"),
        ("{{range .RepoTags}}{{.Foo}}{{end}}", "template: 1:22: can't evaluate field Foo of .: it is a string, not a map"),
        ("{{range .Id}}{{end}}", "template: 1:9: range can't iterate over a string"),
        ("{{range $a, $b := 3}}{{end}}", "template: 1:19: range over an integer takes one variable, not two"),
        ("{{join .RepoTags}}", "template: 1:3: wrong number of arguments for join: want 2, got 1"),
        ("{{index}}", "template: 1:3: wrong number of arguments for index: want at least 1, got 0"),
        ("{{.Name | json 1}}", "template: 1:11: wrong number of arguments for json: want 1, got 2"),
        ("{{lower .Size}}", "template: 1:3: lower: argument 1 should be a string, not a number"),
        ("{{.Id}}\n{{.Nope.X | upper}}", "template: 2:13: upper: argument 1 should be a string, not null"),
        ("{{truncate .Id \"3\"}}", "template: 1:3: truncate: argument 2 should be an integer, not a string"),
        ("{{join .Id \",\"}}", "template: 1:3: join: argument 1 should be a list, not a string"),
        ("{{index .RepoTags 5}}", "template: 1:3: index: 5 is out of range for a list of 2"),
        ("{{index .Config \"Cmd\" \"x\"}}", "template: 1:3: index: a list's index should be an integer, not a string"),
        ("{{index .Size 1}}", "template: 1:3: index: cannot index a number"),
        ("{{len .Size}}", "template: 1:3: len: a number has no length"),
        ("{{eq .Config.Cmd 1}}", "template: 1:3: eq: cannot compare a list with a number"),
        ("{{eq .Id 1}}", "template: 1:3: eq: incompatible types for comparison: a string and a number"),
        ("{{lt true false}}", "template: 1:3: lt: cannot order a bool"),
        ("{{print 1 (lower 2)}}", "template: 1:12: lower: argument 1 should be a string, not a number"),
    ])
    func errors(template: String, message: String) {
        #expect {
            try Self.fill(template)
        } throws: { error in
            guard let error = error as? BurrowError else { return false }
            return error.code == .invalidArgument && error.message == message
        }
    }

    /// Docker's `ps` and `images` rows are Go structs: an unknown field is an error there.
    @Test func rowsRefuseUnknownFields() throws {
        let row = JSONValue.object([("ID", .string("abc")), ("Names", .string("web"))])
        #expect(try OutputFormat.fill("{{.Names}}\\t{{.ID}}", row, missingFields: .error) == "web\tabc")
        #expect {
            try OutputFormat.fill("{{.Nope}}", row, missingFields: .error)
        } throws: { error in
            (error as? BurrowError)?.message == "template: 1:3: field .Nope is unknown: use one of .ID .Names"
        }
    }

    @Test func formatNames() {
        guard case .template("{{.ID}}") = OutputFormat("table {{.ID}}") else { Issue.record("table prefix kept"); return }
        guard case .json = OutputFormat("{{json .}}") else { Issue.record("{{json .}} is not json"); return }
        guard case .table = OutputFormat(nil) else { Issue.record("no format is not a table"); return }
    }
}
