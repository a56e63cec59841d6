import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// `burrow build`, as each kind of unprivileged user runs it: stages,
/// COPY --from, USER and WORKDIR, the step cache, errors that name the
/// Dockerfile's line, the host's CA bundle, and the Docker tutorial's app
/// from examples/hello-flask served on a published port.
extension Integration {
@Suite struct BuildTests {
    /// A build context of the user's, in /tmp, holding `files` (path: text).
    static func context(_ runner: Runner, _ files: [String: String]) throws -> String {
        // Under the prefix scripts/test.sh removes after a run.
        let path = "/tmp/burrow-it-\(runner.user.name)-build-\(UUID().uuidString.prefix(6))"
        var script = "set -e; mkdir -p '\(path)'"
        for (name, text) in files.sorted(by: { $0.key < $1.key }) {
            let encoded = Data(text.utf8).base64EncodedString()
            script += "; mkdir -p \"$(dirname '\(path)/\(name)')\"; echo '\(encoded)' | base64 -d > '\(path)/\(name)'"
        }
        let made = try runner.sh(script)
        precondition(made.code == 0, "\(made)")
        return path
    }

    static func tag(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(6).lowercased())" }

    /// The containers directory of the store: build containers never outlive their step.
    static func containerDirectories(_ runner: Runner) throws -> [String] {
        try runner.sh("ls '\(runner.store)/containers' 2>/dev/null").lines
    }

    @Test(arguments: TestUser.all)
    func multiStageBuildsOnlyTheStagesItNeedsAndCopiesFromAnother(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let before = try BuildTests.containerDirectories(runner)
        let directory = try BuildTests.context(runner, [
            "Dockerfile": """
            ARG BASE=busybox
            FROM $BASE AS builder
            ARG WORD=built
            RUN mkdir -p /out && echo "$WORD here" > /out/artifact && chmod 600 /out/artifact
            FROM busybox AS never
            RUN exit 7
            FROM ${BASE}
            COPY --from=builder /out/artifact /final/
            COPY --from=0 /out /copied
            ENV GREETING=hello
            CMD ["sh", "-c", "cat /final/artifact /copied/artifact; echo $GREETING"]
            """,
        ])
        let name = BuildTests.tag("multi")
        let built = try runner.burrow("build", "-t", name, "--build-arg", "WORD=made", directory)
        #expect(built.code == 0, "\(built)")
        #expect(!built.out.contains("exit 7"), "a stage the target does not need was built: \(built.out)")
        let ran = try runner.burrow("run", "--rm", name)
        #expect(ran.code == 0, "\(ran)")
        #expect(ran.out == "made here\nmade here\nhello\n")
        let mode = try runner.burrow("run", "--rm", name, "stat", "-c", "%a %u", "/final/artifact")
        #expect(mode.out == "600 0\n", "\(mode)")
        let target = try runner.burrow("build", "-q", "--target", "never", directory)
        #expect(target.code == 125 && target.err.contains("Dockerfile:6: RUN returned exit code 7"), "\(target)")
        #expect(try BuildTests.containerDirectories(runner) == before)
        #expect(try runner.burrow("ps", "-aq").out.isEmpty)
    }

    /// ARG and ENV as BuildKit scopes them: a global ARG reaches a stage that
    /// declares it again, --build-arg wins over defaults, ENV over an ARG of
    /// the same name, one ENV line sees the values before it, and ARG values
    /// reach RUN but not the image.
    @Test(arguments: TestUser.all)
    func argumentsAndEnvironmentFollowBuildKit(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let directory = try BuildTests.context(runner, [
            "Dockerfile": """
            ARG V=global
            ARG W=kept
            FROM busybox
            ARG V
            ARG W
            ENV E=env
            ARG E=arg
            ENV abc=hello
            ENV abc=bye def=$abc
            LABEL from.arg=$W
            RUN echo "$V $W $E $abc $def" > /out
            """,
        ])
        let built = try runner.burrow("build", "-q", "--build-arg", "V=cli", "--build-arg", "UNUSED=1", directory)
        #expect(built.code == 0, "\(built)")
        let image = built.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let ran = try runner.burrow("run", "--rm", image, "sh", "-c", "cat /out; echo \"[$V][$W][$E]\"")
        #expect(ran.out == "cli kept env bye hello\n[][][env]\n", "\(ran)")
        let label = try runner.burrow("inspect", "--format", "{{index .Config.Labels \"from.arg\"}}", image)
        #expect(label.out == "kept\n", "\(label)")
        let warned = try runner.burrow("build", "--build-arg", "UNUSED=1", directory)
        #expect(warned.out.contains("[Warning] One or more build-args [UNUSED] were not consumed"), "\(warned)")
    }

    /// The instructions that only the image's configuration or one file
    /// show: ONBUILD triggers, ADD of a local archive, heredocs, SHELL,
    /// HEALTHCHECK, STOPSIGNAL, VOLUME, LABEL, EXPOSE, ENTRYPOINT and CMD.
    @Test(arguments: TestUser.all)
    func everyInstructionLandsInTheImage(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let directory = try BuildTests.context(runner, [
            "Dockerfile": """
            FROM busybox AS parent
            ONBUILD RUN echo triggered > /onbuild
            CMD ["from", "parent"]
            FROM parent
            ADD files.tar.gz /unpacked/
            ADD plain.txt /plain/
            ENV WHO=world
            COPY <<EOF /etc/motd
            hello $WHO \\$HOME "quoted"
            EOF
            COPY <<'EOF' /etc/verbatim
            $WHO
            EOF
            RUN <<EOS
            echo from heredoc > /hd
            echo second line >> /hd
            EOS
            SHELL ["/bin/sh", "-ec"]
            RUN echo "shell $0" > /sh
            LABEL org.example.a="one two" b=2
            EXPOSE 80 53/udp
            HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost || exit 1
            STOPSIGNAL SIGINT
            VOLUME /data
            ENTRYPOINT ["echo", "entry"]
            """,
            "plain.txt": "plain\n",
            "t/f.txt": "inside\n",
        ])
        let packed = try runner.sh("cd '\(directory)' && tar -czf files.tar.gz -C t . && rm -r t")
        #expect(packed.code == 0, "\(packed)")
        let built = try runner.burrow("build", "-q", directory)
        #expect(built.code == 0, "\(built)")
        let image = built.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let files = try runner.burrow("run", "--rm", "--entrypoint", "sh", image, "-c", "cat /onbuild /unpacked/f.txt /plain/plain.txt /etc/motd /etc/verbatim /hd /sh")
        #expect(files.out == "triggered\ninside\nplain\nhello world $HOME \"quoted\"\n$WHO\nfrom heredoc\nsecond line\nshell /bin/sh\n", "\(files)")
        // ENTRYPOINT resets the CMD the parent stage set.
        #expect(try runner.burrow("run", "--rm", image).out == "entry\n")
        let config = try runner.burrow("inspect", "--format",
                                       "{{json .Config.Healthcheck}} {{.Config.StopSignal}} {{json .Config.Volumes}} {{json .Config.Labels}} {{json .Config.ExposedPorts}} {{json .Config.Shell}} {{json .Config.OnBuild}} {{json .Config.Cmd}}",
                                       image)
        #expect(config.out == #"{"Interval":30000000000,"Retries":3,"Test":["CMD-SHELL","wget -q localhost || exit 1"]} SIGINT {"/data":{}} {"b":"2","org.example.a":"one two"} {"53/udp":{},"80/tcp":{}} ["/bin/sh","-ec"] null null"# + "\n", "\(config)")
    }

    /// The lent CA bundle never turns an image's linked directory into a
    /// real one (Fedora links /etc/ssl/certs to /etc/pki/tls/certs), and
    /// SSL_CERT_FILE then names a path the step does have.
    @Test(arguments: TestUser.all)
    func theHostCALayerRespectsLinkedDirectories(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let directory = try BuildTests.context(runner, [
            "Dockerfile": """
            FROM busybox
            RUN mkdir -p /etc/pki/tls/certs /etc/ssl && ln -s ../pki/tls/certs /etc/ssl/certs
            RUN touch /etc/ssl/certs/new && test -s "$SSL_CERT_FILE" && echo "cert file $SSL_CERT_FILE"
            """,
        ])
        let built = try runner.burrow("build", directory)
        #expect(built.code == 0 && built.out.contains("cert file /etc/pki/tls/certs/ca-bundle.crt"), "\(built)")
        let image = try runner.burrow("build", "-q", directory).out.trimmingCharacters(in: .whitespacesAndNewlines)
        let seen = try runner.burrow("run", "--rm", image, "sh", "-c", "readlink /etc/ssl/certs; ls /etc/pki/tls/certs; ls /etc/ssl")
        #expect(seen.out == "../pki/tls/certs\nnew\ncerts\n", "\(seen)")
    }

    /// `-f -`, --label over the Dockerfile's LABEL, and --iidfile.
    @Test(arguments: TestUser.all)
    func aDockerfileFromStandardInputWithLabelsAndAnIDFile(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let directory = try BuildTests.context(runner, ["data.txt": "data\n"])
        let dockerfile = "FROM busybox\nLABEL team=a keep=yes\nCOPY data.txt /\n"
        let built = try runner.burrow("build", "-f", "-", "--label", "team=b", "--iidfile", "\(directory)/iid", "-q", directory,
                                      stdin: Array(dockerfile.utf8))
        #expect(built.code == 0, "\(built)")
        let id = try runner.sh("cat '\(directory)/iid'").out
        #expect(id + "\n" == built.out, "\(id) \(built)")
        let labels = try runner.burrow("inspect", "--format", "{{json .Config.Labels}}", id)
        #expect(labels.out == #"{"keep":"yes","team":"b"}"# + "\n", "\(labels)")
        let refused = try runner.burrow("build", "-f", "-", "--label", "novalue", directory, stdin: Array(dockerfile.utf8))
        #expect(refused.code == 125 && refused.err.contains("--label novalue: give KEY=VALUE"), "\(refused)")
    }

    /// A `burrow rm` while a build runs deletes orphan layers, but not the
    /// ones the build has made and not yet put in its image.
    @Test(arguments: TestUser.all)
    func layersOfARunningBuildSurviveRemovals(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let directory = try BuildTests.context(runner, ["Dockerfile": "FROM busybox\nRUN echo made > /made-\(UUID().uuidString.prefix(6))\nRUN sleep 3\n"])
        let tag = BuildTests.tag("pinned")
        let build = runner.process(Runner.binary, ["build", "-q", "-t", tag, directory])
        let output = Pipe()
        build.standardOutput = output
        build.standardError = output
        try build.run()
        // Once the second RUN runs, the first one's layer is an orphan but for the pin.
        var running = false
        for _ in 0..<100 where !running {
            usleep(100_000)
            running = try runner.sh("pgrep -u \(user.uid) -f '^sleep 3$' || true").out.isEmpty == false
        }
        #expect(running, "the second RUN never started")
        let name = BuildTests.tag("short")
        #expect(try runner.burrow("run", "--name", name, "busybox", "true").code == 0)
        _ = try runner.burrow("rm", "-f", name)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        build.waitUntilExit()
        #expect(build.terminationStatus == 0, "\(text)")
        #expect(try runner.burrow("run", "--rm", tag, "sh", "-c", "cat /made-*").out == "made\n")
        #expect(try runner.sh("ls '\(runner.store)/build-pins' 2>/dev/null").out.isEmpty, "the build's pin outlived it")
    }

    /// BC-15: a new WORKDIR belongs to the USER, an existing one is left alone.
    @Test(arguments: TestUser.all)
    func userAndWorkdirFollowBuildKit(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let directory = try BuildTests.context(runner, [
            "Dockerfile": """
            FROM busybox
            RUN mkdir /data && chown 4321:4321 /data && chmod 700 /data
            USER 1234:1234
            WORKDIR /home/me/work
            RUN touch mine && stat -c '%n %u:%g' /home/me/work /home/me/work/mine
            WORKDIR /data
            COPY --chown=1234:1234 --chmod=640 note.txt ./
            USER root
            RUN stat -c '%n %u:%g %a' /data /data/note.txt
            """,
            "note.txt": "a note\n",
        ])
        let built = try runner.burrow("build", directory)
        switch user.kind {
        case .subordinate:
            #expect(built.code == 0, "\(built)")
            #expect(built.out.contains("/home/me/work 1234:1234\n/home/me/work/mine 1234:1234\n"), "\(built.out)")
            #expect(built.out.contains("/data 4321:4321 700\n/data/note.txt 1234:1234 640\n"), "\(built.out)")
        case .single:
            // Only root is mapped: the chown fails, and says why.
            #expect(built.code == 125, "\(built)")
            #expect(built.err.contains("Dockerfile:2: RUN returned exit code 1"), "\(built)")
        }
    }

    @Test(arguments: TestUser.all)
    func theCacheFollowsContentNotTimes(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let directory = try BuildTests.context(runner, [
            "Dockerfile": """
            FROM busybox
            RUN echo first > /first
            COPY app.txt /app/
            RUN cat /app/app.txt > /copy
            """,
            "app.txt": "one\n",
            "unrelated.txt": "x\n",
        ])
        let first = try runner.burrow("build", directory)
        #expect(first.code == 0, "\(first)")
        let id = try runner.burrow("build", "-q", directory)
        // Unchanged: every step from the cache, and the same image.
        let again = try runner.burrow("build", directory)
        #expect(again.code == 0 && again.out.components(separatedBy: "Using cache").count == 4, "\(again)")
        #expect(try runner.burrow("build", "-q", directory).out == id.out)
        // A new time or an unrelated file changes nothing.
        _ = try runner.sh("touch -d '2001-01-01' '\(directory)/app.txt'; echo y > '\(directory)/unrelated.txt'")
        #expect(try runner.burrow("build", "-q", directory).out == id.out)
        // New content: the COPY and what follows run again, the first RUN does not.
        _ = try runner.sh("echo two > '\(directory)/app.txt'")
        let changed = try runner.burrow("build", directory)
        #expect(changed.code == 0 && changed.out.components(separatedBy: "Using cache").count == 2, "\(changed)")
        let image = try runner.burrow("build", "-q", directory).out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try runner.burrow("run", "--rm", image, "cat", "/copy").out == "two\n")
        // A mode is content too.
        _ = try runner.sh("chmod 600 '\(directory)/app.txt'")
        let mode = try runner.burrow("build", directory)
        #expect(mode.out.components(separatedBy: "Using cache").count == 2, "\(mode)")
        let fresh = try runner.burrow("build", "--no-cache", directory)
        #expect(fresh.code == 0 && !fresh.out.contains("Using cache"), "\(fresh)")
    }

    @Test(arguments: TestUser.all)
    func errorsNameTheLineAndLeaveNothingBehind(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let before = try BuildTests.containerDirectories(runner)
        let images = try runner.burrow("images", "-q").out
        let directory = try BuildTests.context(runner, [
            "Dockerfile": "FROM busybox\nRUN echo ok > /ok\n\nRUN exit 2\n",
            "Dockerfile.typo": "FROM busybox\n# a comment\nRUN true\nCOPPY a b\n",
            "Dockerfile.missing": "FROM busybox\nCOPY nothere.txt /\n",
            "Dockerfile.base": "FROM 127.0.0.1:1/no-such-image:1\n",
            "Dockerfile.ignored": "FROM busybox\nCOPY secret.key /\n",
            ".dockerignore": "*.key\n",
            "secret.key": "s\n",
        ])
        let name = BuildTests.tag("failing")
        let failed = try runner.burrow("build", "-t", name, directory)
        #expect(failed.code == 125)
        #expect(failed.err.hasPrefix("burrow: Dockerfile:4: RUN returned exit code 2"), "\(failed)")
        let typo = try runner.burrow("build", "-f", "\(directory)/Dockerfile.typo", directory)
        #expect(typo.code == 125 && typo.err == "burrow: Dockerfile.typo:4: unknown instruction COPPY\n", "\(typo)")
        let missing = try runner.burrow("build", "-f", "\(directory)/Dockerfile.missing", directory)
        #expect(missing.code == 125 && missing.err.contains("Dockerfile.missing:2: COPY failed: nothere.txt is not in the build context"), "\(missing)")
        let base = try runner.burrow("build", "-f", "\(directory)/Dockerfile.base", directory)
        #expect(base.code == 125 && base.err.contains("Dockerfile.base:1: image 127.0.0.1:1/no-such-image:1 is not in the store"), "\(base)")
        let ignored = try runner.burrow("build", "-f", "\(directory)/Dockerfile.ignored", directory)
        #expect(ignored.code == 125 && ignored.err.contains("secret.key is not in the build context (or .dockerignore leaves it out)"), "\(ignored)")
        #expect(try runner.burrow("images", "-q").out == images)
        #expect(try runner.burrow("inspect", name).code != 0)
        #expect(try BuildTests.containerDirectories(runner) == before)
    }

    /// #9: `host-ca` in the user's burrow.conf turns the bundle on for run
    /// (off by default); BURROW_HOST_CA wins over it, and a bad value names its line.
    @Test(arguments: TestUser.all)
    func theSettingsFileTurnsTheHostCAOn(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let config = try BuildTests.context(runner, ["burrow/burrow.conf": "# lend the host's CAs\nhost-ca = true\n"])
        let probe = ["run", "--rm", "python:3.9-slim", "python", "-c", "import os; print(os.environ.get('SSL_CERT_FILE'))"]
        #expect(try runner.burrow(arguments: probe).out == "None\n")
        let on = try runner.burrow(arguments: probe, env: ["XDG_CONFIG_HOME": config])
        #expect(on.code == 0 && on.out == "/etc/ssl/certs/ca-certificates.crt\n", "\(on)")
        #expect(try runner.burrow(arguments: probe, env: ["XDG_CONFIG_HOME": config, "BURROW_HOST_CA": "0"]).out == "None\n")
        let info = try runner.burrow(arguments: ["info"], env: ["XDG_CONFIG_HOME": config])
        #expect(info.out.contains("run: on (host-ca in \(config)/burrow/burrow.conf:2)"), "\(info)")
        let bad = try BuildTests.context(runner, ["burrow/burrow.conf": "host-ca = maybe\n"])
        let refused = try runner.burrow(arguments: probe, env: ["XDG_CONFIG_HOME": bad])
        #expect(refused.code == 125 && refused.err.contains("\(bad)/burrow/burrow.conf:1: host-ca=maybe is not a yes or no"), "\(refused)")
    }

    /// Ctrl-C ends a build even when the step is a single command, which as
    /// PID 1 would ignore SIGINT: the step runs under an init.
    @Test(arguments: TestUser.all)
    func ctrlCEndsTheBuild(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let images = try runner.burrow("images", "-q").out
        let directory = try BuildTests.context(runner, ["Dockerfile": "FROM busybox\nRUN sleep 30\n"])
        let name = BuildTests.tag("interrupted")
        let build = runner.process(Runner.binary, ["build", "-t", name, directory])
        let out = Pipe(), err = Pipe()
        build.standardOutput = out
        build.standardError = err
        try build.run()
        var seen = ""
        while !seen.contains("Running in") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        usleep(300_000)
        kill(build.processIdentifier, SIGINT)
        let errors = ReadAll(err.fileHandleForReading)
        _ = out.fileHandleForReading.readDataToEndOfFile()
        build.waitUntilExit()
        #expect(build.terminationStatus != 0)
        #expect(errors.wait().contains("Dockerfile:2: RUN returned exit code 130"))
        #expect(try runner.burrow("images", "-q").out == images)
        #expect(try runner.burrow("inspect", name).code != 0)
    }

    /// #5: apt-get in a build works with a subordinate range; without one it
    /// cannot (setgroups is denied), and the error says so and what to do.
    @Test(arguments: TestUser.all)
    func aptGetInABuildWorksOrSaysWhy(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let directory = try BuildTests.context(runner, [
            "Dockerfile": "FROM python:3.9-slim\nRUN apt-get update -qq && apt-get install -y -qq --no-install-recommends hello >/dev/null && hello\n",
        ])
        let built = try runner.burrow("build", "-q", directory)
        switch user.kind {
        case .subordinate:
            #expect(built.code == 0, "\(built)")
        case .single:
            #expect(built.code == 125, "\(built)")
            #expect(built.err.contains("Dockerfile:2: RUN returned exit code 100 (you have no subordinate ids"), "\(built)")
            #expect(built.err.contains("/etc/subuid"), "\(built)")
        }
    }

    /// A build killed halfway leaves its build container; the next build removes it.
    @Test(arguments: TestUser.all)
    func aKilledBuildIsCleanedUpByTheNext(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let before = try BuildTests.containerDirectories(runner)
        let directory = try BuildTests.context(runner, ["Dockerfile": "FROM busybox\nRUN touch /started && sleep 60\n"])
        let build = runner.process(Runner.binary, ["build", "--no-cache", directory])
        build.standardOutput = FileHandle.nullDevice
        build.standardError = FileHandle.nullDevice
        try build.run()
        var left: [String] = []
        for _ in 0..<100 where left.isEmpty {
            usleep(100_000)
            left = try BuildTests.containerDirectories(runner).filter { !before.contains($0) }
        }
        kill(build.processIdentifier, SIGKILL)
        build.waitUntilExit()
        #expect(!left.isEmpty, "the build never made its container")
        let next = try runner.burrow("build", "-q", "--no-cache", "--network", "none", try BuildTests.context(runner, ["Dockerfile": "FROM busybox\nRUN true\n"]))
        #expect(next.code == 0, "\(next)")
        #expect(try BuildTests.containerDirectories(runner) == before)
        #expect(try runner.sh("pgrep -u \(user.uid) -f '[s]leep 60' || true").out.isEmpty, "the RUN step outlived its build")
    }

    /// A port nothing listens on.
    static func freePort() -> UInt16 {
        for _ in 0..<1000 {
            let port = UInt16.random(in: 20000...60000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = INADDR_ANY
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            close(fd)
            if bound == 0 { return port }
        }
        fatalError("no free port")
    }

    /// The Docker tutorial, end to end: build examples/hello-flask (pip
    /// install reaches PyPI through the userspace network, trusting the
    /// host's CAs), run it with -p, and fetch the page.
    @Test(arguments: TestUser.all)
    func theTutorialAppAnswersHelloWorld(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let example = Runner.packageRoot + "/examples/hello-flask"
        let copy = try BuildTests.context(runner, [:])
        _ = try runner.sh("cp -r '\(example)/.' '\(copy)/'")
        let name = BuildTests.tag("my-python-app")
        let built = try runner.burrow("build", "-t", name, copy)
        #expect(built.code == 0, "\(built)")
        guard built.code == 0 else { return }
        let port = BuildTests.freePort()
        let container = BuildTests.tag("web")
        let started = try runner.burrow("run", "-d", "--name", container, "-p", "\(port):80", name)
        #expect(started.code == 0, "\(started)")
        defer { _ = try? runner.burrow("rm", "-f", container) }
        let page = try runner.run("/usr/bin/curl", ["-sS", "--max-time", "5", "--retry", "30", "--retry-delay", "1", "--retry-all-errors",
                                                    "http://localhost:\(port)/"])
        #expect(page.out == "Hello, World!\n", "\(page)")
        let inspect = try runner.burrow("inspect", "--format", "{{json .Config.ExposedPorts}} {{.Config.Env}} {{.Config.WorkingDir}}", name)
        #expect(inspect.out.contains("80/tcp") && inspect.out.contains("NAME=World") && inspect.out.contains("/app"), "\(inspect)")
        let stopped = try runner.burrow("stop", container)
        #expect(stopped.code == 0, "\(stopped)")
    }

    /// #9: a TLS server on loopback with a certificate from a CA the test
    /// makes. A build step trusts it through --host-ca-file, a container
    /// without the option does not, and the image keeps no trace of the bundle.
    @Test(arguments: TestUser.all)
    func theHostCABundleIsLentButNeverCommitted(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let directory = try BuildTests.context(runner, [:])
        let port = BuildTests.freePort()
        let made = try runner.sh("""
            set -e; cd '\(directory)'
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=Burrow Test CA' -keyout ca.key -out ca.crt \
              -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout server.key -out server.csr 2>/dev/null
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile ext -out server.crt 2>/dev/null
            cat /etc/ssl/certs/ca-certificates.crt ca.crt > bundle.pem
            mkdir ctx
            """)
        #expect(made.code == 0, "\(made)")
        let server = runner.process("/usr/bin/openssl", ["s_server", "-quiet", "-accept", "127.0.0.1:\(port)", "-cert", "\(directory)/server.crt",
                                                         "-key", "\(directory)/server.key", "-WWW"])
        server.currentDirectoryURL = URL(fileURLWithPath: directory)
        try "trusted\n".write(toFile: "\(directory)/index.html", atomically: true, encoding: .utf8)
        _ = try runner.sh("chmod 644 '\(directory)/index.html' 2>/dev/null || true")
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            // s_server outlives SIGTERM.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        usleep(300_000)
        let url = "https://localhost:\(port)/index.html"
        let fetch = "import urllib.request; print(urllib.request.urlopen('\(url)').read().decode())"
        let lent = try runner.burrow("run", "--rm", "--network", "host", "--host-ca-file", "\(directory)/bundle.pem", "python:3.9-slim", "python", "-c", fetch)
        #expect(lent.code == 0 && lent.out == "trusted\n\n", "\(lent)")
        let without = try runner.burrow("run", "--rm", "--network", "host", "python:3.9-slim", "python", "-c", fetch)
        #expect(without.code != 0 && without.err.contains("CERTIFICATE_VERIFY_FAILED"), "\(without)")

        // update-ca-certificates may replace the bundle while it is lent (apt-get install ca-certificates does).
        let dockerfile = "FROM python:3.9-slim\nRUN update-ca-certificates --fresh >/dev/null\nRUN python -c \"import urllib.request; open('/fetched', 'w').write(urllib.request.urlopen('\(url)').read().decode())\"\n"
        try dockerfile.write(toFile: "\(directory)/ctx/Dockerfile", atomically: false, encoding: .utf8)
        let name = BuildTests.tag("ca")
        let refused = try runner.burrow("build", "--no-cache", "--network", "host", "--host-ca=false", "-t", name, "\(directory)/ctx")
        #expect(refused.code == 125 && refused.err.contains("RUN returned exit code 1"), "\(refused)")
        let built = try runner.burrow("build", "--no-cache", "--network", "host", "--host-ca-file", "\(directory)/bundle.pem", "-t", name, "\(directory)/ctx")
        #expect(built.code == 0, "\(built)")
        let traces = try runner.burrow("run", "--rm", name, "sh", "-c",
                                       "cat /fetched; grep -c BEGIN /etc/ssl/certs/ca-certificates.crt; ls /etc/pki /etc/ssl/cert.pem 2>&1 | wc -l; echo ${SSL_CERT_FILE:-unset}")
        let base = try runner.burrow("run", "--rm", "python:3.9-slim", "sh", "-c", "grep -c BEGIN /etc/ssl/certs/ca-certificates.crt")
        #expect(traces.lines.first == "trusted", "\(traces)")
        #expect(traces.lines.dropFirst().first == base.lines.first, "the image's bundle changed: \(traces) \(base)")
        #expect(traces.lines.last == "unset", "\(traces)")
        #expect(traces.lines.count == 4 && traces.lines[2] == "2", "a CA path was committed: \(traces)")
    }
}
}
