@testable import BurrowCLI
import BurrowOCI
import Testing

struct ArgumentParserTests {
    let run = ContainerRun.spec

    @Test func dockerStyleOptions() throws {
        let parsed = try ArgumentParser.parse(["--rm", "-it", "-e", "A=1", "-eB=2", "--env=C=3", "--name", "web", "-w/srv", "busybox", "sh", "-c", "echo -e --rm"], for: run)
        #expect(parsed.flag("rm"))
        #expect(parsed.flag("interactive") && parsed.flag("tty"))
        #expect(parsed.values("env") == ["A=1", "B=2", "C=3"])
        #expect(parsed.value("name") == "web")
        #expect(parsed.value("workdir") == "/srv")
        #expect(parsed.positionals == ["busybox", "sh", "-c", "echo -e --rm"])
    }

    @Test func doubleDashEndsOptions() throws {
        let parsed = try ArgumentParser.parse(["--", "--weird-image-name"], for: ImageList.spec)
        #expect(parsed.positionals == ["--weird-image-name"])
    }

    @Test func booleanValues() throws {
        #expect(try !ArgumentParser.parse(["--rm=false", "x"], for: run).flag("rm"))
        #expect(throws: UsageError.self) { try ArgumentParser.parse(["--rm=maybe", "x"], for: run) }
    }

    @Test func errorsNameTheFlag() {
        #expect { try ArgumentParser.parse(["--bogus", "x"], for: run) } throws: { "\($0)".contains("unknown flag: --bogus") }
        #expect { try ArgumentParser.parse(["-z", "x"], for: run) } throws: { "\($0)".contains("'z'") }
        #expect { try ArgumentParser.parse(["x", "--name"], for: ImageTag.spec) } throws: { "\($0)".contains("--name") }
        #expect { try ArgumentParser.parse(["--name"], for: run) } throws: { "\($0)".contains("needs an argument: --name") }
        #expect { try ArgumentParser.parse([], for: run) } throws: { "\($0)".contains("requires at least 1 argument") }
        #expect { try ArgumentParser.parse(["a", "b", "c"], for: ImageTag.spec) } throws: { "\($0)".contains("at most 2") }
    }

    @Test func exitCodesAreMappedInOnePlace() {
        #expect(CLI.exitCode(for: UsageError("x")) == 125)
        #expect(CLI.main(["run", "--bogus", "busybox"]) == 125)
        #expect(CLI.main(["no-such-command"]) == 125)
        #expect(CLI.main(["--help"]) == 0)
    }

    @Test func sizesAsDockerPrintsThem() {
        #expect(HumanSize.format(1_031_725) == "1.03MB")
        #expect(HumanSize.format(155_000_000) == "155MB")
        #expect(HumanSize.format(999) == "999B")
        #expect(HumanSize.format(4_260_000) == "4.26MB")
        #expect(HumanSize.format(0) == "0B")
    }

    @Test func templatesFillFields() throws {
        #expect(try OutputFormat.fill("{{.Repository}}:{{.Tag}}\\t{{ .ID }}", .object([("Repository", .string("busybox")), ("Tag", .string("latest")), ("ID", .string("abc"))]), missingFields: .error) == "busybox:latest\tabc")
        #expect(throws: (any Error).self) { try OutputFormat.fill("{{.Nope}}", .object([("ID", .string("x"))]), missingFields: .error) }
    }
}

struct TableTests {
    /// Docker's tabwriter: a column is at least 10 wide, 3 spaces after its widest cell.
    @Test func columnsAsDockerLaysThemOut() {
        var table = Table(["DRIVER", "VOLUME NAME"])
        table.add(["local", "data"])
        #expect(table.render() == "DRIVER    VOLUME NAME\nlocal     data")
        var wide = Table(["REPOSITORY", "TAG", "IMAGE ID"])
        wide.add(["busybox", "latest", "382fa8fc6723"])
        #expect(wide.render() == "REPOSITORY   TAG       IMAGE ID\nbusybox      latest    382fa8fc6723")
    }
}

struct CommandGroupTests {
    @Test func aGroupDispatchesToItsSubcommands() {
        #expect(CLI.main(["volume"]) == 0, "a group alone prints its help")
        #expect(CLI.main(["volume", "--help"]) == 0)
        #expect(CLI.main(["help", "volume"]) == 0)
        #expect(CLI.main(["help", "volume", "ls"]) == 0)
        #expect(CLI.main(["volume", "ls", "--help"]) == 0)
        #expect(CLI.main(["volume", "bogus"]) == 125)
        #expect(CLI.main(["volume", "--bogus"]) == 125)
    }

    @Test func subcommandsSayTheirWholeName() throws {
        #expect(VolumeList.spec.usage == "burrow volume ls [OPTIONS]")
        #expect(VolumeList.spec.manPage == "burrow-volume-ls")
        #expect(Volume.subcommand(named: "list")?.spec.name == "volume ls")
        #expect(Volume.subcommand(named: "remove")?.spec.name == "volume rm")
        #expect { try ArgumentParser.parse(["--bogus"], for: VolumeCreate.spec) } throws: { "\($0)".contains("see 'burrow volume create --help'") }
        #expect { try ArgumentParser.parse(["a", "b"], for: VolumeCreate.spec) } throws: { "\($0)".contains("\"burrow volume create\" takes at most 1 argument") }
        let help = Help.group(Volume.self)
        #expect(help.contains("Usage: burrow volume COMMAND") && help.contains("  ls       List volumes"))
        #expect(Help.general().contains("Management Commands:\n  container") && Help.general().contains("\n  volume "))
        #expect(CLI.visibleCommandTree.map(\.name).contains("volume prune"))
    }
}
