import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// --ulimit for real, and the cgroup limits as far as the host allows: on
/// a host that delegates no cgroup v2 controller (this project's CI runs
/// hybrid cgroups, every controller on v1), the refusal.
extension Integration {
@Suite struct LimitsTests {
    @Test(arguments: TestUser.all)
    func ulimitsReachTheContainer(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let files = try runner.burrow("run", "--rm", "--ulimit", "nofile=100:200", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn")
        #expect(files.code == 0 && files.out == "100\n200\n", "\(files)")
        let several = try runner.burrow("run", "--rm", "--ulimit", "nproc=100", "--ulimit", "core=-1", "--ulimit", "stack=8388608:16777216",
                                        "--ulimit", "nproc=50:60", "busybox", "sh", "-c", "ulimit -u; ulimit -Hu; ulimit -c; ulimit -s; ulimit -Hs")
        #expect(several.code == 0 && several.lines == ["50", "60", "unlimited", "8192", "16384"], "\(several)")
    }

    @Test(arguments: TestUser.all)
    func aHardLimitAboveTheCallersIsRefused(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let own = try runner.sh("ulimit -Hn").out.trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try runner.burrow("run", "--rm", "--ulimit", "nofile=100:1099511627776", "busybox", "true")
        #expect(result.code == 125, "\(result)")
        #expect(result.err == "burrow: --ulimit nofile=100:1099511627776: the nofile hard limit 1099511627776 is above your own (\(own)), and a container cannot raise it: ask for \(own) or less\n")
    }

    @Test(arguments: TestUser.all)
    func flagErrorsAreDockers(user: TestUser) throws {
        let runner = try Runner.shared(user)
        for (arguments, message) in [
            (["--ulimit", "nofile"], "invalid argument \"nofile\" for \"--ulimit\" flag: invalid ulimit argument: nofile"),
            (["--ulimit", "bogus=1"], "invalid argument \"bogus=1\" for \"--ulimit\" flag: invalid ulimit type: bogus"),
            (["-m", "x"], "invalid argument \"x\" for \"-m, --memory\" flag: invalid size: 'x'"),
            (["--memory", "1m"], "Minimum memory limit allowed is 6MB"),
            (["--cpus", "x"], "invalid argument \"x\" for \"--cpus\" flag: failed to parse x as a rational number"),
            (["--pids-limit", "x"], "invalid argument \"x\" for \"--pids-limit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"),
        ] {
            let result = try runner.burrow(arguments: ["run", "--rm"] + arguments + ["busybox", "true"])
            #expect(result.code == 125 && result.err == "burrow: \(message)\n", "\(arguments): \(result)")
        }
    }

    /// Whatever `burrow info` says of a group of flags, run does: "no: WHY"
    /// is a refusal with WHY, exit 125, one line, and no container.
    @Test(arguments: TestUser.all)
    func cgroupLimitsAreRefusedOrGivenAsInfoSays(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let info = try runner.burrow("info", "--format", "json")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(info.out.utf8)) as? [String: [String: String]])
        let cgroups = try #require(report["cgroups"])
        let before = try runner.burrow("ps", "-a", "-q").lines
        for (group, arguments) in [("--memory, --memory-swap", ["--memory", "100m"]), ("--cpus, --cpu-shares", ["--cpus", "1.5"]),
                                   ("--pids-limit", ["--pids-limit", "10"])] {
            let verdict = try #require(cgroups[group])
            // In the foreground, detached under a monitor, and created for later.
            for mode in [["run", "--rm"], ["run", "-d", "--rm"], ["create"]] {
                let result = try runner.burrow(arguments: mode + arguments + ["busybox", "true"])
                if verdict.hasPrefix("no: ") {
                    #expect(result.code == 125 && result.err == "burrow: \(verdict.dropFirst(4))\n", "\(mode) \(arguments): \(result)")
                } else {
                    #expect(result.code == 0, "\(mode) \(arguments): \(result)")
                }
            }
        }
        #expect(try runner.burrow("ps", "-a", "-q").lines == before, "a refused run left a container")
    }

    /// With no limit asked, no cgroup file is opened (seen with strace; a
    /// user without subordinate ids, whom no setuid helper serves).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "needs strace"),
          arguments: TestUser.all.filter { $0.kind == .single })
    func noLimitMeansNoCgroupFileIsTouched(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let log = "/tmp/burrow-it-strace-\(UUID().uuidString.prefix(6))"
        defer { unlink(log) }
        let result = try runner.run("/usr/bin/strace", ["-f", "-qq", "-e", "trace=%file", "-o", log, Runner.binary, "run", "--rm",
                                                        "--ulimit", "nofile=64", "busybox", "true"])
        #expect(result.code == 0, "\(result)")
        let calls = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").filter { $0.contains("cgroup") }
        #expect(calls.isEmpty, "\(calls)")
    }
}
}
