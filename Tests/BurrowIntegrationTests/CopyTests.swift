import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// `burrow cp`, as each kind of unprivileged user runs it, on running and
/// exited containers, and on containers that planted links to the host.
extension Integration {
@Suite struct CopyTests {
    /// A scratch directory of the user's, in /tmp.
    static func scratch(_ runner: Runner, _ tag: String) throws -> String {
        let path = "/tmp/burrow-it-cp-\(runner.user.name)-\(tag)-\(UUID().uuidString.prefix(6))"
        let made = try runner.sh("mkdir -p '\(path)'")
        precondition(made.code == 0, "\(made)")
        return path
    }

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(6).lowercased())" }

    /// `burrow cp ARGS` through a shell, so archives can be piped.
    func cp(_ runner: Runner, _ pipeline: String) throws -> Outcome {
        try runner.sh(pipeline.replacingOccurrences(of: "burrow ", with: "'\(Runner.binary)' "))
    }

    /// A container started in the background that prints "ready" once it
    /// has set itself up, and then runs the rest of `script`.
    final class Running {
        let process: Process
        let output = Pipe()
        let name: String
        let runner: Runner

        init(_ runner: Runner, name: String, options: [String] = [], setup: String, then script: String) throws {
            self.runner = runner
            self.name = name
            process = runner.process(Runner.binary, ["run", "--name", name] + options + ["busybox", "sh", "-c", "\(setup); echo ready; \(script)"])
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let first = output.fileHandleForReading.availableData
            precondition(String(decoding: first, as: UTF8.self).hasPrefix("ready"), "the container did not start: \(String(decoding: first, as: UTF8.self))")
        }

        /// What the container printed after "ready", once it exits.
        func finish() -> String {
            let rest = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: rest, as: UTF8.self)
        }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            _ = try? runner.burrow("rm", "-f", name)
        }
    }

    @Test(arguments: TestUser.all)
    func aFileComesOutOfAnExitedContainer(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = CopyTests.unique("exited")
        defer { _ = try? runner.burrow("rm", name) }
        #expect(try runner.burrow("run", "--name", name, "busybox", "sh", "-c", "echo hi > /f").code == 0)
        let listed = try cp(runner, "burrow cp \(name):/f - | tar -tv")
        #expect(listed.code == 0 && listed.out.hasPrefix("-rw-r--r-- 0/0") && listed.out.hasSuffix(" f\n"), "\(listed)")
        let content = try cp(runner, "burrow cp \(name):/f - | tar -xO")
        #expect(content.out == "hi\n", "\(content)")
        let directory = try CopyTests.scratch(runner, "exited")
        let out = try cp(runner, "burrow cp \(name):/f \(directory)/ && burrow cp \(name):/f \(directory)/g && cat \(directory)/f \(directory)/g && stat -c '%u %a' \(directory)/f")
        #expect(out.out == "hi\nhi\n\(user.uid) 644\n", "\(out)")
        // Into the exited container, and out again.
        let back = try cp(runner, "echo more > \(directory)/m && burrow cp \(directory)/m \(name):/tmp/ && burrow cp \(name):/tmp/m - | tar -tv && burrow cp \(name):/tmp/m - | tar -xO")
        #expect(back.code == 0 && back.out.hasPrefix("-rw-r--r-- 0/0") && back.out.hasSuffix("more\n"), "\(back)")
    }

    @Test(arguments: TestUser.all)
    func aRunningContainerSeesAFileCopiedIn(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = CopyTests.unique("running")
        let container = try Running(runner, name: name, setup: "echo inside > /made-inside",
                                    then: "while [ ! -e /tmp/in/file ]; do sleep 0.05; done; cat /tmp/in/file; stat -c '%u:%g %a' /tmp/in /tmp/in/file")
        defer { container.stop() }
        let directory = try CopyTests.scratch(runner, "running")
        let out = try cp(runner, "burrow cp \(name):/made-inside - | tar -xO")
        #expect(out.out == "inside\n", "\(out)")
        let into = try cp(runner, "mkdir \(directory)/in && chmod 750 \(directory)/in && echo from-host > \(directory)/in/file && chmod 640 \(directory)/in/file && burrow cp \(directory)/in \(name):/tmp/")
        #expect(into.code == 0, "\(into)")
        #expect(container.finish() == "from-host\n0:0 750\n0:0 640\n")
    }

    /// The container's processes need not run as root: cp joins the
    /// container's user namespace, whose owner the user is.
    @Test(.enabled(if: TestUser.first(.subordinate) != nil, "only a subordinate range maps nobody"))
    func aContainerRunningAsNobodyIsReachedToo() throws {
        let runner = try Runner.shared(try #require(TestUser.first(.subordinate)))
        let name = CopyTests.unique("nobody")
        let container = try Running(runner, name: name, options: ["-u", "nobody"], setup: "id -u > /tmp/who",
                                    then: "while [ ! -e /tmp/in ]; do sleep 0.05; done; stat -c '%u:%g' /tmp/in")
        defer { container.stop() }
        let directory = try CopyTests.scratch(runner, "nobody")
        let who = try cp(runner, "burrow cp \(name):/tmp/who - | tar -xO")
        #expect(who.out == "65534\n", "\(who)")
        #expect(try cp(runner, "echo x > \(directory)/in && burrow cp -a \(directory)/in \(name):/tmp/in").code == 0)
        #expect(container.finish() == "0:0\n", "the user's own file is root's inside")
    }

    /// Owners inside the container survive a trip through the host with -a;
    /// without -a, the host gets the user's files and the container root's.
    @Test(arguments: TestUser.all)
    func filesOfSeveralOwnersKeepThemWithArchive(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let source = CopyTests.unique("owners")
        let target = CopyTests.unique("owners-back")
        defer { _ = try? runner.burrow("rm", source, target) }
        let chown = user.kind == .subordinate ? "chown 1:2 /own/a && chown 33:33 /own/b && chown 65534:65534 /own/sub" : "true"
        #expect(try runner.burrow("run", "--name", source, "busybox", "sh", "-c", "mkdir -p /own/sub && touch /own/a /own/b /own/sub/c && \(chown)").code == 0)
        #expect(try runner.burrow("run", "--name", target, "busybox", "true").code == 0)
        let expected = user.kind == .subordinate ? ["0/0 own/", "1/2 own/a", "33/33 own/b", "65534/65534 own/sub/", "0/0 own/sub/c"]
            : ["0/0 own/", "0/0 own/a", "0/0 own/b", "0/0 own/sub/", "0/0 own/sub/c"]
        let listing = "tar -tv | awk '{print $2, $6}'"
        #expect(try cp(runner, "burrow cp \(source):/own - | \(listing)").out.split(separator: "\n").map(String.init) == expected)

        let directory = try CopyTests.scratch(runner, "owners")
        let kept = try cp(runner, "burrow cp -a \(source):/own \(directory)/kept && stat -c '%n %u' \(directory)/kept/a \(directory)/kept/b")
        let plain = try cp(runner, "burrow cp \(source):/own \(directory)/plain && stat -c '%u:%g' \(directory)/plain/a \(directory)/plain/b \(directory)/plain/sub | sort -u")
        #expect(plain.out == "\(user.uid):\(user.gid)\n", "without -a the host files are the user's: \(plain)")
        if user.kind == .subordinate {
            #expect(kept.code == 0 && !kept.out.contains(" \(user.uid)\n"), "with -a they belong to subordinate ids: \(kept)")
        }
        let round = try cp(runner, "burrow cp -a \(directory)/kept \(target):/own && burrow cp \(target):/own - | \(listing)")
        #expect(round.out.split(separator: "\n").map(String.init) == expected, "\(round)")
        let rooted = try cp(runner, "burrow cp \(directory)/kept \(target):/rooted && burrow cp \(target):/rooted - | tar -tv | awk '{print $2}' | sort -u")
        #expect(rooted.out == "0/0\n", "without -a the container root owns it all: \(rooted)")
        // An archive's owners are kept with -a, and go to root without.
        let archive = try cp(runner, "burrow cp \(source):/own - | burrow cp -a - \(target):/tmp && burrow cp \(target):/tmp/own - | \(listing)")
        #expect(archive.out.split(separator: "\n").map(String.init) == expected, "\(archive)")
    }

    /// A container that planted `/escape -> /`, `/f -> /etc/passwd` and links
    /// to the user's own files cannot make cp read or write the host's.
    @Test(arguments: TestUser.all)
    func plantedLinksNeverReachTheHost(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let directory = try CopyTests.scratch(runner, "planted")
        #expect(try runner.sh("echo original > \(directory)/victim && mkdir \(directory)/victim-dir").code == 0)
        let name = CopyTests.unique("planted")
        defer { _ = try? runner.burrow("rm", name) }
        // The container has a directory of the same name as the user's, so the links lead somewhere in it too.
        let plant = "mkdir -p \(directory) && ln -s / /escape && ln -s /etc/passwd /f && ln -s \(directory)/victim /vf && ln -s \(directory)/victim-dir /vd && mkdir /d && ln -s /etc /d/etc && ln -s ../../../../../.. /d/up && ln -s \(directory) /d/host"
        #expect(try runner.burrow("run", "--name", name, "busybox", "sh", "-c", plant).code == 0)

        let passwd = try cp(runner, "burrow cp \(name):/escape/escape/etc/passwd - | tar -xO")
        #expect(passwd.out.hasPrefix("root:x:0:0:") && !passwd.out.contains(user.name), "the container's passwd, not the host's: \(passwd)")
        let followed = try cp(runner, "burrow cp -L \(name):/f - | tar -xO")
        #expect(followed.out == passwd.out, "\(followed)")
        let link = try cp(runner, "burrow cp \(name):/f \(directory)/f && readlink \(directory)/f")
        #expect(link.out == "/etc/passwd\n", "the link itself comes out: \(link)")
        let missing = try cp(runner, "burrow cp -L \(name):/vf -")
        #expect(missing.code == 125 && missing.err.contains("no such file"), "the user's file is not in the container: \(missing)")
        let up = try cp(runner, "burrow cp \(name):/d/up\(directory)/victim -")
        #expect(up.code == 125 && up.err.contains("no such file"), "\(up)")

        // Writes through the same links land in the container.
        let written = try cp(runner, "echo pwned > \(directory)/payload && burrow cp \(directory)/payload \(name):/vf && burrow cp \(directory)/payload \(name):/escape\(directory)/victim-dir; burrow cp \(name):\(directory)/victim - | tar -xO")
        #expect(written.out == "pwned\n", "DEST's link is followed inside the container: \(written)")
        let tree = try cp(runner, "burrow cp \(name):/d \(directory)/tree && ls -A \(directory)/tree && readlink \(directory)/tree/host")
        #expect(tree.out == "etc\nhost\nup\n\(directory)\n", "\(tree)")
        let inside = try cp(runner, "burrow cp \(name):/escape\(directory)/victim-dir - | tar -xO")
        #expect(inside.out == "pwned\n", "\(inside)")
        let over = try cp(runner, "burrow cp \(name):/d/. \(directory)/tree")
        #expect(over.code == 0, "the same links over themselves: \(over)")
        let host = try runner.sh("cat \(directory)/victim; ls -A \(directory)/victim-dir")
        #expect(host.out == "original\n", "the host's files are untouched: \(host)")

        // An archive cannot climb out of DEST, nor out of the container.
        let hostile = try cp(runner, "cd \(directory) && mkdir -p arch/x && echo bad > arch/x/bad && tar -c -C arch --transform 's,^x,../../..\(directory),' x/bad | burrow cp - \(name):/tmp")
        #expect(hostile.code == 125 && hostile.err.contains("climbs out"), "\(hostile)")
        #expect(try runner.sh("test ! -e \(directory)/bad").code == 0)
    }

    @Test(arguments: TestUser.all)
    func onlyTheRootFilesystemOfARunningContainer(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = CopyTests.unique("mounts")
        let container = try Running(runner, name: name, setup: "true", then: "sleep 30")
        defer { container.stop() }
        for path in ["/etc/hosts", "/proc/1/environ", "/sys/kernel", "/dev/null"] {
            let refused = try runner.burrow("cp", "\(name):\(path)", "-")
            #expect(refused.code == 125 && refused.err.contains("mount"), "\(path): \(refused)")
        }
        let whole = try cp(runner, "burrow cp \(name):/ - | tar -t")
        #expect(whole.code == 0 && whole.out.contains("bin/busybox\n"), "\(whole.err)")
        #expect(!whole.out.contains("proc/") && !whole.out.contains("etc/hosts\n") && !whole.out.contains("dev/"), "\(whole.out)")
        #expect(whole.err.contains("left out"), "\(whole.err)")
        let into = try runner.burrow("cp", "/etc/hostname", "\(name):/proc/")
        #expect(into.code == 125, "\(into)")
    }

    @Test(arguments: TestUser.all)
    func mistakesAreNamed(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let name = CopyTests.unique("mistakes")
        defer { _ = try? runner.burrow("rm", name) }
        #expect(try runner.burrow("run", "--name", name, "busybox", "sh", "-c", "echo x > /file").code == 0)
        let cases: [([String], String)] = [
            (["cp", "a", "b"], "name a container"),
            (["cp", "\(name):/a", "\(name):/b"], "between containers"),
            (["cp", "nosuch:/a", "-"], "no such container"),
            (["cp", "\(name):/nothing", "-"], "no such file or directory in container \(name): /nothing"),
            (["cp", "\(name):/file/", "-"], "not a directory"),
            (["cp", "\(name):/bin", "/etc/hostname"], "cannot copy the directory"),
            (["cp", "\(name):/file", "/tmp/no-such-dir-\(UUID().uuidString)/"], "does not exist"),
            (["cp", "-", "\(name):/file"], "must be an existing directory"),
            (["cp", "--bogus", "\(name):/file", "-"], "--bogus"),
        ]
        for (arguments, message) in cases {
            let result = try runner.burrow(arguments: arguments)
            #expect(result.code == 125 && result.err.contains(message) && result.err.split(separator: "\n").count == 1, "\(arguments): \(result)")
        }
    }
}
}
