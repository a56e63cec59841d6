import BurrowOCI
@testable import BurrowSandbox
import Testing

struct ProcessSpecificationTests {
    func config(entrypoint: [String]?, cmd: [String]?) -> ContainerConfiguration {
        var config = ContainerConfiguration()
        config.entrypoint = entrypoint
        config.cmd = cmd
        return config
    }

    @Test(arguments: [
        // image entrypoint, image cmd, command line args, --entrypoint → argv
        (nil, ["sh"], [], nil, ["sh"]),
        (nil, ["sh"], ["echo", "hi"], nil, ["echo", "hi"]),
        (["/init"], ["serve"], [], nil, ["/init", "serve"]),
        (["/init"], ["serve"], ["debug"], nil, ["/init", "debug"]),
        (["/init"], ["serve"], [], "echo", ["echo"]),
        (["/init"], ["serve"], ["a"], "echo", ["echo", "a"]),
        (["/init"], ["serve"], ["ls"], "", ["ls"]),
        (["/bin/sh", "-c", "echo $X"], nil, [], nil, ["/bin/sh", "-c", "echo $X"]),
    ] as [([String]?, [String]?, [String], String?, [String])])
    func argumentsFollowDocker(entrypoint: [String]?, cmd: [String]?, args: [String], override: String?, expected: [String]) throws {
        #expect(try ProcessSpecification.arguments(config: config(entrypoint: entrypoint, cmd: cmd), command: args, entrypoint: override) == expected)
    }

    @Test func noCommandIsAnError() {
        #expect(throws: ProcessSpecification.SpecificationError.noCommand) {
            try ProcessSpecification.arguments(config: config(entrypoint: ["/init"], cmd: nil), command: [], entrypoint: "")
        }
    }

    @Test func environmentOrderAndOverrides() {
        let env = ProcessSpecification.environment(image: ["PATH=/opt/bin:/bin", "LANG=C.UTF-8", "A=image"],
                                                   user: ["A=user", "B=2"], hostname: "abc", home: "/root")
        #expect(env == ["PATH=/opt/bin:/bin", "HOSTNAME=abc", "LANG=C.UTF-8", "A=user", "B=2", "HOME=/root"])
        let withHome = ProcessSpecification.environment(image: [], user: ["HOME=/x"], hostname: "h", home: "/root")
        #expect(withHome == [ProcessSpecification.defaultPath, "HOSTNAME=h", "HOME=/x"])
        #expect(ProcessSpecification.searchPath(in: env) == "/opt/bin:/bin")
    }

    @Test func userEnvironmentFromFlagsAndFiles() throws {
        let lookup: (String) -> String? = { $0 == "FROMHOST" ? "yes" : nil }
        let entries = try ProcessSpecification.userEnvironment(
            flags: ["A=1", "FROMHOST", "UNSET", "EMPTY="],
            files: [(path: "f", text: "# comment\n\nB=2\r\n  C=3\nFROMHOST\n")], lookup: lookup)
        #expect(entries == ["B=2", "C=3", "FROMHOST=yes", "A=1", "FROMHOST=yes", "EMPTY="])
        #expect(throws: ProcessSpecification.SpecificationError.self) {
            try ProcessSpecification.userEnvironment(flags: ["=x"], files: [], lookup: lookup)
        }
    }

    @Test func workingDirectory() throws {
        #expect(try ProcessSpecification.workingDirectory(image: nil, option: nil) == "/")
        #expect(try ProcessSpecification.workingDirectory(image: "app", option: nil) == "/app")
        #expect(try ProcessSpecification.workingDirectory(image: "/app", option: "/srv") == "/srv")
        #expect(throws: ProcessSpecification.SpecificationError.relativeWorkingDirectory("srv")) {
            try ProcessSpecification.workingDirectory(image: nil, option: "srv")
        }
    }

    @Test func resolvConfDropsLoopbackServersWithoutTheHostNetwork() {
        let host = "search lan\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver ::1\noptions edns0"
        #expect(EtcFiles.resolvConf(host: host, network: .none) == "search lan\nnameserver 10.0.0.1\noptions edns0")
        #expect(EtcFiles.resolvConf(host: host, network: .host) == host)
    }
}
