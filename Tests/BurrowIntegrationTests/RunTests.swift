import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// The container path, as each kind of unprivileged user runs it.
extension Integration {
@Suite struct RunTests {
    @Test(arguments: TestUser.all)
    func pythonPrintsFortyTwo(user: TestUser) throws {
        let result = try Runner.shared(user).burrow("run", "--rm", "python:3.9-slim", "python", "-c", "print(6*7)")
        #expect(result.code == 0, "\(result)")
        #expect(result.out == "42\n")
    }

    @Test(arguments: TestUser.all)
    func idMapsAreWhatTheUserHas(user: TestUser) throws {
        let result = try Runner.shared(user).burrow("run", "--rm", "busybox", "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u")
        #expect(result.code == 0, "\(result)")
        let rows = result.lines.map { $0.split(separator: " ").map(String.init) }
        switch user.kind {
        case .subordinate:
            #expect(rows[0] == ["0", String(user.uid), "1"])
            #expect(rows[1].first == "1" && rows[1].last == "65536")
            #expect(rows[2] == ["0", String(user.gid), "1"])
            #expect(rows[4] == ["allow"])
        case .single:
            #expect(rows[0] == ["0", String(user.uid), "1"])
            #expect(rows[1] == ["0", String(user.gid), "1"])
            #expect(rows[2] == ["deny"])
        }
        #expect(result.lines.last == "0")
    }

    /// Files of several owners keep them with a range; without one everything is root's.
    @Test(arguments: TestUser.all)
    func ownersAndSetuidBitsOfImageFiles(user: TestUser) throws {
        let result = try Runner.shared(user).burrow("run", "--rm", "python:3.9-slim", "stat", "-c", "%n %u:%g %a", "/etc/gshadow", "/usr/bin/su", "/usr/bin/chage", "/tmp")
        #expect(result.code == 0, "\(result)")
        let group = user.kind == .subordinate ? "42" : "0"
        #expect(result.lines == ["/etc/gshadow 0:\(group) 640", "/usr/bin/su 0:0 4755", "/usr/bin/chage 0:\(group) 2755", "/tmp 0:0 1777"])
    }

    @Test(arguments: TestUser.all)
    func exitCodesAsDocker(user: TestUser) throws {
        let runner = try Runner.shared(user)
        #expect(try runner.burrow("run", "--rm", "busybox", "true").code == 0)
        #expect(try runner.burrow("run", "--rm", "busybox", "sh", "-c", "exit 3").code == 3)
        #expect(try runner.burrow("run", "--rm", "busybox", "sh", "-c", "exit 125").code == 125)
        let directory = try runner.burrow("run", "--rm", "busybox", "/etc")
        #expect(directory.code == 126 && directory.err.contains("cannot run /etc"), "\(directory)")
        let missing = try runner.burrow("run", "--rm", "busybox", "no-such-command")
        #expect(missing.code == 127 && missing.err.contains("not found in $PATH"), "\(missing)")
        let bogus = try runner.burrow("run", "--bogus-flag", "busybox", "true")
        #expect(bogus.code == 125 && bogus.err.contains("--bogus-flag"))
        let crashed = try runner.burrow("run", "--rm", "python:3.9-slim", "python", "-c", "import ctypes; ctypes.string_at(0)")
        #expect(crashed.code == 139, "a container killed by SIGSEGV exits 128+11: \(crashed)")
        for outcome in [directory, missing, bogus] { #expect(outcome.err.split(separator: "\n").count == 1, "\(outcome)") }
    }

    @Test(arguments: TestUser.all)
    func aWriteInOneContainerIsNotInTheNext(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = "writer-\(UUID().uuidString.prefix(6).lowercased())"
        let first = try runner.burrow("run", "--name", name, "busybox", "sh", "-c", "echo hi > /marker && echo x >> /etc/passwd && cat /marker")
        #expect(first.code == 0 && first.out == "hi\n", "\(first)")
        let second = try runner.burrow("run", "--rm", "busybox", "sh", "-c", "test ! -e /marker && ! grep -qx x /etc/passwd")
        #expect(second.code == 0, "\(second)")
        let listed = try runner.burrow("ps", "-a", "--format", "{{.Names}} {{.State}}")
        #expect(listed.lines.contains("\(name) exited"), "\(listed)")
        #expect(try runner.burrow("rm", name).code == 0)
        #expect(try !runner.burrow("ps", "-a", "-q").out.contains(name))
    }

    @Test(arguments: TestUser.all)
    func imageConfigurationAndOptionsAsDocker(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let env = try runner.burrow("run", "--rm", "-e", "A=1", "-e", "FROMHOST", "--hostname", "box", "python:3.9-slim", "env", env: ["FROMHOST": "yes"])
        #expect(env.lines.first?.hasPrefix("PATH=") == true && env.lines.dropFirst().first == "HOSTNAME=box", "\(env)")
        #expect(env.lines.contains("LANG=C.UTF-8") && env.lines.contains("A=1") && env.lines.contains("FROMHOST=yes") && env.lines.last == "HOME=/root")
        let workdir = try runner.burrow("run", "--rm", "-w", "/new/dir", "busybox", "pwd")
        #expect(workdir.out == "/new/dir\n", "\(workdir)")
        let entry = try runner.burrow("run", "--rm", "--entrypoint", "echo", "python:3.9-slim", "from", "entrypoint")
        #expect(entry.out == "from entrypoint\n")
        let cmd = try runner.burrow("run", "--rm", "python:3.9-slim")
        #expect(cmd.code == 0, "python reading /dev/null exits at once: \(cmd)")
        let host = try runner.burrow("run", "--rm", "--hostname", "named-host", "busybox", "sh", "-c", "hostname; cat /etc/hostname; grep -c localhost /etc/hosts")
        #expect(host.lines == ["named-host", "named-host", "2"], "\(host)")
        let unknown = try runner.burrow("run", "--rm", "-u", "nosuch", "busybox", "id")
        #expect(unknown.code == 125 && unknown.err.contains("unable to find user nosuch"), "\(unknown)")
        let numeric = try runner.burrow("run", "--rm", "-u", "0:0", "busybox", "sh", "-c", "id -u; echo $HOME")
        #expect(numeric.lines == ["0", "/root"], "\(numeric)")
        let missingImage = try runner.burrow("run", "--rm", "127.0.0.1:1/nosuchimage", "true")
        #expect(missingImage.code == 125 && missingImage.err.contains("nosuchimage"), "\(missingImage)")
    }

    @Test(arguments: TestUser.all)
    func otherUsersOfTheImage(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let nobody = try runner.burrow("run", "--rm", "-u", "nobody", "busybox", "sh", "-c", "id -u; cat /proc/self/status | grep CapEff")
        switch user.kind {
        case .subordinate:
            #expect(nobody.code == 0 && nobody.lines.first == "65534", "\(nobody)")
            #expect(nobody.lines.last?.hasSuffix("0000000000000000") == true)
        case .single:
            #expect(nobody.code == 125 && nobody.err.contains("only uid 0 is mapped"), "\(nobody)")
        }
    }

    @Test(arguments: TestUser.all)
    func filesystemsEveryContainerGets(user: TestUser) throws {
        let script = """
        test "$(cat /proc/1/comm)" = sh || echo "pid 1 is not the command"
        touch /sys/x 2>/dev/null && echo "sys writable"
        for d in null zero full random urandom tty pts shm mqueue ptmx fd stdin; do test -e /dev/$d || echo "no /dev/$d"; done
        grep -q ' /proc/keys ' /proc/self/mountinfo || echo "/proc/keys not masked"
        grep ' /proc/acpi ' /proc/self/mountinfo | grep -q ' ro,' || echo "/proc/acpi not masked"
        grep ' /proc/sys ' /proc/self/mountinfo | grep -q ' ro,' || echo "/proc/sys not read-only"
        echo 1 > /proc/sys/kernel/hostname 2>/dev/null && echo "proc/sys writable"
        grep -q CapEff /proc/self/status || echo "no proc"
        test -s /etc/resolv.conf -o -e /etc/resolv.conf || echo "no resolv.conf"
        ls /sys/class/net
        """
        let result = try Runner.shared(user).burrow("run", "--rm", "busybox", "sh", "-c", script)
        #expect(result.code == 0)
        // The default network gives eth0 beside loopback (NetworkTests looks closer).
        #expect(result.out == "eth0\nlo\n", "\(result)")
    }

    @Test(arguments: TestUser.all)
    func hostNetworkSharesTheHostsInterfaces(user: TestUser) throws {
        let result = try Runner.shared(user).burrow("run", "--rm", "--network", "host", "busybox", "sh", "-c", "ls /sys/class/net; hostname")
        let hostInterfaces = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net").sorted()) ?? []
        #expect(Array(result.lines.dropLast()) == hostInterfaces, "\(result)")
        var names = utsname()
        uname(&names)
        let hostname = withUnsafeBytes(of: names.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(result.lines.last == hostname)
    }

    @Test(arguments: TestUser.all)
    func keepIDRunsAsTheUser(user: TestUser) throws {
        let result = try Runner.shared(user).burrow("run", "--rm", "--userns=keep-id", "busybox", "sh", "-c", "id -u; id -g; stat -c %u /bin/busybox; touch /tmp/f && stat -c %u /tmp/f")
        #expect(result.code == 0, "\(result)")
        let owner = user.kind == .subordinate ? "0" : String(user.uid)
        #expect(result.lines == [String(user.uid), String(user.gid), owner, String(user.uid)], "\(result)")
    }

    @Test(arguments: TestUser.all)
    func signalsReachTheContainer(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let process = runner.process(Runner.binary, ["run", "--rm", "busybox", "sh", "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done"])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let ready = out.fileHandleForReading.availableData
        #expect(String(decoding: ready, as: UTF8.self) == "ready\n")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 7)
    }

    @Test(arguments: TestUser.all)
    func removedContainersLeaveNothing(user: TestUser) throws {
        let runner = try Runner.fresh(user, tag: "rm")
        #expect(try runner.burrow("load", "-q", "-i", "\(Runner.images)/busybox.docker.tar").code == 0)
        #expect(try runner.burrow("run", "--rm", "--name", "gone", "busybox", "sh", "-c", "mkdir -p /a/b && touch /a/b/c && chown -R 1:1 /a 2>/dev/null; true").code == 0)
        #expect(try runner.burrow("run", "--rm", "busybox", "nosuch").code == 127)
        // --rm holds however burrow ends, SIGKILL included.
        let killed = runner.process(Runner.binary, ["run", "--rm", "busybox", "sh", "-c", "echo up; sleep 30"])
        let out = Pipe()
        killed.standardOutput = out
        killed.standardError = FileHandle.nullDevice
        try killed.run()
        _ = out.fileHandleForReading.availableData
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        // The files of a --rm container go in the background: give that a moment.
        let check = "ls -A '\(runner.store)/containers' '\(runner.store)/names' '\(runner.store)/tmp' | grep -v -e ':$' -e '^$'; "
            + "ps -u \(user.uid) -o args= | grep -v -e '^ps ' -e '^/bin/sh -c ls' -e '^grep ' -e ' __keeper'"
        var left = try runner.sh(check)
        for _ in 0..<50 where !left.out.isEmpty {
            usleep(100_000)
            left = try runner.sh(check)
        }
        #expect(left.out.isEmpty, "left behind (files, then processes other than the namespace keeper): \(left)")
    }

    @Test(arguments: TestUser.all)
    func theVFSDriverGivesTheSameContainer(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let overlay = try runner.burrow("run", "--rm", "python:3.9-slim", "sh", "-c", "ls -l /usr/bin | md5sum; stat -c '%u:%g %a' /etc/gshadow")
        let vfs = try runner.burrow("--storage-driver", "vfs", "run", "--rm", "python:3.9-slim", "sh", "-c", "ls -l /usr/bin | md5sum; stat -c '%u:%g %a' /etc/gshadow")
        #expect(vfs.code == 0, "\(vfs)")
        #expect(vfs.out == overlay.out)
    }
}
}
