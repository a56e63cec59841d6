import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// Containers that outlive the command that started them: the monitor,
/// stop and kill, logs, exec, --init, and what a killed monitor leaves.
extension Integration {
@Suite struct LifecycleTests {
    static func name(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(6).lowercased())" }

    /// Polls `condition` for up to five seconds.
    static func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        for _ in 0..<50 {
            if try condition() { return true }
            usleep(100_000)
        }
        return try condition()
    }

    @Test(arguments: TestUser.all)
    func detachedContainersRunOnAndStopAsDocker(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("detached")
        let started = try runner.burrow("run", "-d", "--name", name, "busybox", "sleep", "1000")
        #expect(started.code == 0 && started.out.count == 65 && started.out.allSatisfy { $0.isHexDigit || $0 == "\n" }, "\(started)")
        // The command that started it is gone; the container runs on.
        let listed = try runner.burrow("ps", "--format", "{{.Names}} {{.State}}", "--filter", "name=\(name)")
        #expect(listed.out == "\(name) running\n", "\(listed)")
        let inspected = try runner.burrow("inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.Config.Cmd}}", name)
        #expect(inspected.out == "running true [sleep 1000]\n", "\(inspected)")
        // PID 1 without a SIGTERM handler ignores SIGTERM: SIGKILL after the timeout, 137.
        let stopped = try runner.burrow("stop", "-t", "1", name)
        #expect(stopped.code == 0 && stopped.out == "\(name)\n", "\(stopped)")
        let after = try runner.burrow("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}", name)
        #expect(after.out == "exited 137 false\n", "\(after)")
        #expect(try runner.burrow("wait", name).out == "137\n")
        #expect(try runner.burrow("ps", "-a", "--filter", "status=exited", "--filter", "name=\(name)", "--format", "{{.Status}}").out.hasPrefix("Exited (137)"))
        #expect(try runner.burrow("rm", name).code == 0)
    }

    /// With --init, PID 1 passes SIGTERM on: the program ends with it at once (143).
    @Test(arguments: TestUser.all)
    func initPassesSignalsOnAndReapsOrphans(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("init")
        #expect(try runner.burrow("run", "-d", "--init", "--name", name, "busybox", "sleep", "1000").code == 0)
        // Five orphans, each a `sleep 1` whose parent exits at once (BC-19).
        let spawn = try runner.burrow("exec", name, "sh", "-c", "for i in 1 2 3 4 5; do sh -c 'sleep 1 &'; done")
        #expect(spawn.code == 0, "\(spawn)")
        usleep(2_500_000)
        let zombies = try runner.burrow("exec", name, "sh", "-c", "ps -o stat | grep -c '^Z' || true")
        #expect(zombies.out == "0\n", "zombies under --init: \(zombies)")
        let processes = try runner.burrow("exec", name, "ps", "-o", "pid,args")
        #expect(processes.lines.contains { $0.hasSuffix("/dev/init -- sleep 1000") && $0.trimmingCharacters(in: .whitespaces).hasPrefix("1 ") }, "\(processes)")
        #expect(try runner.burrow("stop", name).code == 0)
        #expect(try runner.burrow("inspect", "-f", "{{.State.ExitCode}}", name).out == "143\n")
        #expect(try runner.burrow("rm", name).code == 0)

        // Without --init, as in Docker, the orphans stay zombies of PID 1.
        let plain = LifecycleTests.name("noinit")
        #expect(try runner.burrow("run", "-d", "--name", plain, "busybox", "sleep", "1000").code == 0)
        _ = try runner.burrow("exec", plain, "sh", "-c", "for i in 1 2 3; do sh -c 'sleep 1 &'; done")
        usleep(2_500_000)
        #expect(try runner.burrow("exec", plain, "sh", "-c", "ps -o stat | grep -c '^Z' || true").out == "3\n")
        #expect(try runner.burrow("rm", "-f", plain).code == 0)
    }

    @Test(arguments: TestUser.all)
    func logsKeepBothStreamsAndFollow(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("logs")
        #expect(try runner.burrow("run", "-d", "--name", name, "busybox", "sh", "-c",
                                  "echo one; echo two >&2; printf 'three'; sleep 1; echo ' and more'; echo four").code == 0)
        let follow = try runner.burrow("logs", "-f", name)
        #expect(follow.code == 0 && follow.out == "one\nthree and more\nfour\n" && follow.err == "two\n", "\(follow)")
        let tail = try runner.burrow("logs", "--tail", "2", name)
        #expect(tail.out == "three and more\nfour\n", "\(tail)")
        let stamped = try runner.burrow("logs", "-t", "-n", "1", name)
        let stamp = try #require(stamped.out.split(separator: " ").first)
        #expect(stamp.count == 30 && stamp.hasSuffix("Z") && stamped.out.hasSuffix(" four\n"), "\(stamped)")
        #expect(try runner.burrow("rm", name).code == 0)
        // The foreground run keeps its log too.
        let foreground = try runner.burrow("run", "--name", name, "busybox", "sh", "-c", "echo fg; exit 3")
        #expect(foreground.code == 3 && foreground.out == "fg\n")
        #expect(try runner.burrow("logs", name).out == "fg\n")
        #expect(try runner.burrow("rm", name).code == 0)
    }

    @Test(arguments: TestUser.all)
    func execJoinsTheContainer(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("exec")
        #expect(try runner.burrow("run", "-d", "--name", name, "-e", "FROM_RUN=1", "--hostname", "inside", "busybox", "sleep", "1000").code == 0)
        let seen = try runner.burrow("exec", "-e", "FROM_EXEC=2", "-w", "/tmp", name, "sh", "-c",
                                     "hostname; pwd; echo $FROM_RUN$FROM_EXEC; cat /proc/1/cmdline | tr '\\0' ' '; exit 5")
        #expect(seen.code == 5 && seen.lines == ["inside", "/tmp", "12", "sleep 1000 "], "\(seen)")
        let piped = try runner.burrow("exec", "-i", name, "sh", "-c", "tr a-z A-Z", stdin: Array("quiet\n".utf8))
        #expect(piped.out == "QUIET\n", "\(piped)")
        let missing = try runner.burrow("exec", name, "no-such-command")
        #expect(missing.code == 127, "\(missing)")
        let directory = try runner.burrow("exec", name, "/etc")
        #expect(directory.code == 126, "\(directory)")
        if user.kind == .subordinate {
            #expect(try runner.burrow("exec", "-u", "nobody", name, "id", "-u").out == "65534\n")
        } else {
            let refused = try runner.burrow("exec", "-u", "nobody", name, "id")
            #expect(refused.code == 125 && refused.err.contains("cannot exist"), "\(refused)")
        }
        #expect(try runner.burrow("exec", "-d", name, "sleep", "500").code == 0)
        let top = try runner.burrow("top", name)
        #expect(top.lines.first?.hasPrefix("UID") == true && top.lines.contains { $0.hasSuffix("sleep 500") } && top.lines.count == 3, "\(top)")
        #expect(try runner.burrow("kill", name).code == 0)
        #expect(try runner.burrow("wait", name).out == "137\n")
        let stopped = try runner.burrow("exec", name, "true")
        #expect(stopped.code == 126 && stopped.err.contains("is not running"), "\(stopped)")
        #expect(try runner.burrow("rm", name).code == 0)
    }

    /// The monitor killed with SIGKILL takes the container with it, and the
    /// record says so: never a ghost "running" row.
    @Test(arguments: TestUser.all)
    func aKilledMonitorLeavesAnHonestRecord(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("orphan")
        let id = try runner.burrow("run", "-d", "--name", name, "busybox", "sleep", "1000").out.trimmingCharacters(in: .newlines)
        let pid = try #require(Int32(try runner.sh("pgrep -o -u \(user.uid) -f '[_]_monitor \(id)'").out.trimmingCharacters(in: .newlines)))
        let first = try runner.burrow("inspect", "-f", "{{.State.Pid}}", name).out.trimmingCharacters(in: .newlines)
        kill(pid, SIGKILL)
        #expect(try LifecycleTests.eventually { try runner.burrow("ps", "-q", "--filter", "name=\(name)").out.isEmpty })
        let status = try runner.burrow("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}", name)
        #expect(status.out.hasPrefix("exited 137 ") && status.out.contains("killed"), "\(status)")
        // The container's PID 1 is gone too (or a zombie waiting for the host's init).
        #expect(try LifecycleTests.eventually { try runner.sh("ps -o stat= -p \(first) | grep -v Z || true").out.isEmpty })
        #expect(try runner.burrow("rm", name).code == 0)

        // With --rm, the container goes even so: the monitor's cleaner sees it die.
        let removed = LifecycleTests.name("orphan-rm")
        let rmID = try runner.burrow("run", "-d", "--rm", "--name", removed, "busybox", "sleep", "1000").out.trimmingCharacters(in: .newlines)
        let rmPID = try #require(Int32(try runner.sh("pgrep -o -u \(user.uid) -f '[_]_monitor \(rmID)'").out.trimmingCharacters(in: .newlines)))
        kill(rmPID, SIGKILL)
        #expect(try LifecycleTests.eventually { !FileManager.default.fileExists(atPath: "\(runner.store)/containers/\(rmID)") && !FileManager.default.fileExists(atPath: "\(runner.store)/names/\(removed)") })
    }

    /// A detached container's volume outlives it, and its bind is the host's directory.
    @Test(arguments: TestUser.all)
    func detachedContainersMountToo(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("mounted")
        let volume = LifecycleTests.name("vol")
        #expect(try runner.burrow("run", "-d", "--name", name, "-v", "\(volume):/data", "--tmpfs", "/scratch", "--read-only", "busybox", "sleep", "1000").code == 0)
        #expect(try runner.burrow("exec", name, "sh", "-c", "echo kept > /data/f && touch /scratch/ok && ! touch /nope 2>/dev/null").code == 0)
        #expect(try runner.burrow("rm", "-f", name).code == 0)
        #expect(try runner.burrow("run", "--rm", "-v", "\(volume):/data", "busybox", "cat", "/data/f").out == "kept\n")
        #expect(try runner.burrow("volume", "rm", volume).code == 0)
    }

    @Test(arguments: TestUser.all)
    func createStartRestartRenameAndRemove(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("made")
        let created = try runner.burrow("create", "--name", name, "busybox", "sh", "-c", "echo ran; exit 4")
        #expect(created.code == 0 && created.out.count == 65, "\(created)")
        #expect(try runner.burrow("ps", "-a", "--filter", "status=created", "--format", "{{.Names}}").lines.contains(name))
        let attached = try runner.burrow("start", "-a", name)
        #expect(attached.code == 4 && attached.out == "ran\n", "\(attached)")
        #expect(try runner.burrow("start", name).out == "\(name)\n")
        #expect(try runner.burrow("wait", name).out == "4\n")
        #expect(try runner.burrow("logs", name).out == "ran\nran\n")
        let renamed = LifecycleTests.name("renamed")
        #expect(try runner.burrow("rename", name, renamed).code == 0)
        #expect(try runner.burrow("inspect", "-f", "{{.Name}}", renamed).out == "/\(renamed)\n")
        #expect(try runner.burrow("inspect", name).code == 125)

        let looping = LifecycleTests.name("loop")
        #expect(try runner.burrow("run", "-d", "--name", looping, "busybox", "sleep", "1000").code == 0)
        #expect(try runner.burrow("restart", "-t", "0", looping).out == "\(looping)\n")
        let restarted = try runner.burrow("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", looping)
        #expect(restarted.out == "running 1\n", "\(restarted)")
        let refused = try runner.burrow("rm", looping)
        #expect(refused.code == 125 && refused.err.contains("rm -f"), "\(refused)")
        #expect(try runner.burrow("rm", "-f", looping, renamed).code == 0)
        #expect(try runner.burrow("ps", "-a", "--format", "{{.Names}}").lines.allSatisfy { $0 != looping && $0 != renamed })
    }

    /// --rm under a monitor: however the container ends, it goes.
    @Test(arguments: TestUser.all)
    func detachedRemovedContainersGo(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = LifecycleTests.name("gone")
        let id = try runner.burrow("run", "-d", "--rm", "--name", name, "busybox", "sleep", "1000").out.trimmingCharacters(in: .newlines)
        #expect(try runner.burrow("stop", "-t", "0", name).code == 0)
        #expect(try LifecycleTests.eventually { !FileManager.default.fileExists(atPath: "\(runner.store)/containers/\(id)") })
        #expect(try runner.burrow("inspect", name).code == 125)
        // A program that cannot start: the error, and no container left.
        let failed = try runner.burrow("run", "-d", "--rm", "busybox", "no-such-command")
        #expect(failed.code == 127 && failed.err.contains("not found"), "\(failed)")
    }

    /// -t gives a terminal, of the caller's size when there is one.
    @Test(arguments: TestUser.all)
    func aTerminalOfTheCallersSize(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let plain = try runner.burrow("run", "-t", "--rm", "busybox", "sh", "-c", "tty; stty size")
        #expect(plain.code == 0 && plain.out == "/dev/pts/0\r\n24 80\r\n", "\(plain)")
        let sized = try runner.run("/usr/bin/script", ["-qec", "stty rows 50 cols 132; \(Runner.binary) run -t --rm busybox stty size", "/dev/null"])
        #expect(sized.out.contains("50 132"), "\(sized)")
    }

    /// 50 detached containers started at once all run, stop and go, and leave
    /// no process, directory or socket behind.
    @Test(arguments: TestUser.all)
    func fiftyAtOnce(user: TestUser) throws {
        let runner = try Runner.fresh(user, tag: "fifty")
        #expect(try runner.burrow("load", "-q", "-i", "\(Runner.images)/busybox.oci.tar").code == 0)
        let before = try runner.sh("ls /proc/$(pgrep -u \(user.uid) -f ' [_]_keeper' | head -1)/fd 2>/dev/null | wc -l").out
        // xargs waits with waitpid: a shell's `wait` would need SIGCHLD, which the test runner's threads keep blocked.
        let started = try runner.sh("seq 50 | xargs -P 50 -I{} \(Runner.binary) run -d --name many{} busybox sleep 1000 >/dev/null")
        #expect(started.code == 0 && started.err.isEmpty, "\(started)")
        let running = try runner.burrow("ps", "-q")
        #expect(running.lines.count == 50, "\(running)")
        // Each one's PID 1 is alive, and a sleep.
        let alive = try runner.sh("\(Runner.binary) inspect -f '{{.State.Pid}}' $(\(Runner.binary) ps -q) | xargs -I{} ps -o comm= -p {} | grep -cx sleep")
        #expect(alive.out == "50\n", "\(alive)")
        let ids = try runner.burrow("ps", "-q", "--no-trunc").lines
        let stopped = try runner.sh("\(Runner.binary) stop -t 0 $(\(Runner.binary) ps -q) >/dev/null && \(Runner.binary) rm $(\(Runner.binary) ps -a -q) >/dev/null")
        #expect(stopped.code == 0, "\(stopped)")
        let sockets = ids.map { "/tmp/burrow-\(user.uid)/attach-\($0.prefix(32)).sock" }.joined(separator: " ")
        let left = try runner.sh("ls -A '\(runner.store)/containers' '\(runner.store)/names'; pgrep -u \(user.uid) -a -f '[_]_monitor|[s]leep 1000'; "
                                 + "ls \(sockets) 2>/dev/null")
        #expect(left.out.split(separator: "\n").filter { !$0.hasSuffix(":") }.isEmpty, "left behind: \(left)")
        let after = try runner.sh("ls /proc/$(pgrep -u \(user.uid) -f ' [_]_keeper' | head -1)/fd 2>/dev/null | wc -l").out
        #expect(before == after, "the namespace keeper's descriptors changed")
    }
}
}

/// An interactive session on a pseudo-terminal, as a user at a terminal runs it.
struct TerminalSession {
    let process: Process
    let master: Int32

    init(_ runner: Runner, _ arguments: [String], rows: UInt16 = 30, columns: UInt16 = 100) throws {
        var master: Int32 = -1, slave: Int32 = -1
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw POSIXError(.EIO) }
        self.master = master
        process = runner.process(Runner.binary, arguments)
        let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        process.standardInput = terminal
        process.standardOutput = terminal
        process.standardError = terminal
        try process.run()
        close(slave)
    }

    func type(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    func type(_ text: String) { type(Array(text.utf8)) }

    /// Reads until `text` has appeared, for up to ten seconds; what was read.
    @discardableResult
    func read(until text: String) -> String {
        var seen = ""
        let deadline = Date().addingTimeInterval(10)
        while !seen.contains(text) && Date() < deadline {
            var entry = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 200) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            seen += String(decoding: buffer[0..<n], as: UTF8.self)
        }
        return seen
    }

    func finish() -> Int32 {
        process.waitUntilExit()
        close(master)
        return process.terminationStatus
    }
}

extension Integration.LifecycleTests {
    /// -it: the caller's size before the program starts, keys as characters,
    /// a lone Ctrl-P passed on, Ctrl-P Ctrl-Q detaching, `attach` coming back (BC-34).
    @Test(arguments: TestUser.all)
    func aTerminalSessionDetachesAndAttachesAgain(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = Integration.LifecycleTests.name("tty")
        let session = try TerminalSession(runner, ["run", "-it", "--name", name, "busybox", "sh"])
        session.type("stty size\n")
        #expect(session.read(until: "30 100").contains("30 100"))
        // The window grows: burrow follows it (SIGWINCH, as a terminal sends it).
        var larger = winsize(ws_row: 40, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(session.master, UInt(TIOCSWINSZ), &larger)
        kill(session.process.processIdentifier, SIGWINCH)
        usleep(200_000)
        session.type("stty size\n")
        #expect(session.read(until: "40 120").contains("40 120"))
        session.type("cat -v\n")
        session.read(until: "cat -v")
        session.type([0x10, 0x78, 0x0a])
        #expect(session.read(until: "^Px").contains("^Px"), "a lone Ctrl-P followed by x arrives as both")
        session.type([0x04])
        session.type([0x10, 0x11])
        #expect(session.finish() == 0, "detaching ends burrow run with 0")
        #expect(try runner.burrow("inspect", "-f", "{{.State.Status}}", name).out == "running\n")

        let again = try TerminalSession(runner, ["attach", name])
        again.type("echo back $((6*7))\n")
        #expect(again.read(until: "back 42").contains("back 42"))
        again.type("exit 7\n")
        #expect(again.finish() == 7)
        #expect(try runner.burrow("rm", name).code == 0)
    }

    /// wait hears a --rm container's exit code from its monitor; restart refuses one.
    @Test(arguments: TestUser.all)
    func waitAndRestartOfRemovedContainers(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = Integration.LifecycleTests.name("rmwait")
        #expect(try runner.burrow("run", "-d", "--rm", "--name", name, "busybox", "sh", "-c", "sleep 1; exit 9").code == 0)
        let restart = try runner.burrow("restart", name)
        #expect(restart.code == 125 && restart.err.contains("--rm"), "\(restart)")
        #expect(try runner.burrow("wait", name).out == "9\n")
        let gone = try runner.burrow("inspect", name)
        #expect(gone.code == 125)
    }
}

extension Integration.LifecycleTests {
    /// In the foreground under a monitor, the signals burrow gets reach the container.
    @Test(arguments: TestUser.all)
    func signalsPassThroughTheMonitor(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = Integration.LifecycleTests.name("proxy")
        let process = runner.process(Runner.binary, ["run", "--name", name, "busybox", "sh", "-c",
                                                     "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done"])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        #expect(String(decoding: out.fileHandleForReading.availableData, as: UTF8.self) == "ready\n")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 7)
        #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "got TERM\n")
        #expect(try runner.burrow("logs", name).out == "ready\ngot TERM\n")
        #expect(try runner.burrow("rm", name).code == 0)
    }
}
