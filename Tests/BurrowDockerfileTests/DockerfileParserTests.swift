@testable import BurrowDockerfile
import Testing

/// Every instruction, and the rules people trip over (PITFALLS BC-33).
struct DockerfileParserTests {
    func commands(_ text: String) throws -> [Command] {
        let file = try DockerfileParser.parse("FROM scratch\n" + text)
        return file.stages[0].instructions.map(\.command)
    }

    func single(_ text: String) throws -> Command {
        let all = try commands(text)
        try #require(all.count == 1)
        return all[0]
    }

    static let instructions: [(String, Command)] = [
        ("RUN echo hi", .run(.shell("echo hi"), heredocs: [], network: nil)),
        ("RUN [\"echo\", \"hi\"]", .run(.exec(["echo", "hi"]), heredocs: [], network: nil)),
        ("RUN --network=none true", .run(.shell("true"), heredocs: [], network: "none")),
        ("run echo lower", .run(.shell("echo lower"), heredocs: [], network: nil)),
        ("CMD [\"python\", \"app.py\"]", .cmd(.exec(["python", "app.py"]))),
        ("CMD python app.py", .cmd(.shell("python app.py"))),
        ("CMD [\"broken\"", .cmd(.shell("[\"broken\""))),
        ("ENTRYPOINT [\"/bin/sh\", \"-c\"]", .entrypoint(.exec(["/bin/sh", "-c"]))),
        ("ENTRYPOINT exec top -b", .entrypoint(.shell("exec top -b"))),
        ("SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]", .shell(["/bin/bash", "-o", "pipefail", "-c"])),
        ("ENV NAME World", .env([Assignment("NAME", "World")])),
        ("ENV NAME the whole world", .env([Assignment("NAME", "the whole world")])),
        ("ENV A=1 B=\"two words\" C=three\\ words", .env([Assignment("A", "1"), Assignment("B", "\"two words\""), Assignment("C", "three\\ words")])),
        ("LABEL org.x=\"a b\" y=z", .label([Assignment("org.x", "\"a b\""), Assignment("y", "z")])),
        ("ARG VERSION", .arg([Assignment("VERSION", nil)])),
        ("ARG VERSION=1.0 OTHER", .arg([Assignment("VERSION", "1.0"), Assignment("OTHER", nil)])),
        ("EXPOSE 80 443/tcp", .expose(["80", "443/tcp"])),
        ("WORKDIR /app", .workdir("/app")),
        ("USER nobody:nogroup", .user("nobody:nogroup")),
        ("COPY . /app", .copy(CopyCommand(sources: ["."], destination: "/app"))),
        ("COPY --from=build --chown=1:2 --chmod=0755 /out/a /out/b /dst/",
         .copy(CopyCommand(sources: ["/out/a", "/out/b"], destination: "/dst/", from: "build", chown: "1:2", chmod: "0755"))),
        ("COPY [\"a b\", \"/c d/\"]", .copy(CopyCommand(sources: ["a b"], destination: "/c d/"))),
        ("ADD --chown=app files.tar /srv", .add(CopyCommand(sources: ["files.tar"], destination: "/srv", chown: "app"))),
        ("VOLUME /data /logs", .volume(["/data", "/logs"])),
        ("VOLUME [\"/data\"]", .volume(["/data"])),
        ("STOPSIGNAL SIGINT", .stopSignal("SIGINT")),
        ("HEALTHCHECK NONE", .healthCheck(HealthCheck(test: nil))),
        ("HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/",
         .healthCheck(HealthCheck(test: .shell("curl -f http://localhost/"), interval: "5s", retries: "3"))),
        ("ONBUILD RUN make", .onBuild("RUN make")),
        ("MAINTAINER someone", .maintainer("someone")),
    ]

    @Test(arguments: instructions)
    func eachInstruction(text: String, expected: Command) throws {
        #expect(try single(text) == expected)
    }

    static let mistakes: [(String, String)] = [
        ("FROM scratch\nCOPPY . /app\n", "Dockerfile:2: unknown instruction COPPY"),
        ("FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments (FROM IMAGE [AS NAME])"),
        ("RUN true\n", "Dockerfile:1: RUN before the first FROM: only ARG may come before it"),
        ("FROM scratch\nCOPY onlyone\n", "Dockerfile:2: COPY requires at least two arguments, but got 1"),
        ("FROM scratch\nSHELL /bin/sh -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]"),
        ("FROM scratch\nCOPY --form=x a b\n", "Dockerfile:2: unknown flag --form for COPY"),
        ("FROM scratch\nONBUILD FROM x\n", "Dockerfile:2: FROM is not allowed as an ONBUILD trigger"),
        ("FROM scratch\nRUN cat <<EOF\nno end\n", "Dockerfile:2: the heredoc EOF has no terminating line \"EOF\""),
        ("FROM a AS x\nFROM b AS X\n", "Dockerfile:2: duplicate stage name \"x\""),
        ("ARG A\n", "Dockerfile: the Dockerfile has no FROM instruction"),
        ("FROM scratch\nENV ONLYKEY\n", "Dockerfile:2: ENV must have two arguments (ENV KEY VALUE, or ENV KEY=VALUE)"),
        ("FROM scratch\nLABEL novalue\n", "Dockerfile:2: LABEL names novalue without a value: write novalue=VALUE"),
    ]

    @Test(arguments: mistakes)
    func mistakesNameTheirLine(text: String, message: String) {
        #expect(throws: DockerfileError.self) { try DockerfileParser.parse(text) }
        do {
            _ = try DockerfileParser.parse(text)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func errorsNameTheFileTheUserGave() {
        do {
            _ = try DockerfileParser.parse("FROM x\nBOGUS\n", file: "build/Containerfile")
            Issue.record("no error")
        } catch {
            #expect(error.description == "build/Containerfile:2: unknown instruction BOGUS")
        }
    }

    /// BC-33 (a): a comment inside a continuation is dropped.
    @Test func commentInsideContinuation() throws {
        #expect(try single("RUN echo a \\\n# note\n  && echo b") == .run(.shell("echo a   && echo b"), heredocs: [], network: nil))
    }

    /// BC-33 (b): an empty line inside a continuation does not end it.
    @Test func emptyLineInsideContinuation() throws {
        #expect(try commands("RUN echo a \\\n\n&& echo b\nRUN next") == [.run(.shell("echo a && echo b"), heredocs: [], network: nil),
                                                                    .run(.shell("next"), heredocs: [], network: nil)])
    }

    /// BC-33 (c): the escape directive counts only before anything else.
    @Test func escapeDirective() throws {
        let file = try DockerfileParser.parse("# escape=`\nFROM scratch\nRUN echo a `\n  b\nCOPY c:\\dir\\ /d\n")
        #expect(file.directives["escape"] == "`")
        #expect(file.stages[0].instructions[0].command == .run(.shell("echo a   b"), heredocs: [], network: nil))
        #expect(file.stages[0].instructions[1].command == .copy(CopyCommand(sources: ["c:\\dir\\"], destination: "/d")))

        let late = try DockerfileParser.parse("FROM scratch\n# escape=`\nRUN echo a \\\n b\n")
        #expect(late.directives.isEmpty)
        #expect(late.stages[0].instructions[0].command == .run(.shell("echo a  b"), heredocs: [], network: nil))

        let afterComment = try DockerfileParser.parse("# hello\n# escape=`\nFROM scratch\n")
        #expect(afterComment.directives.isEmpty)
        #expect(throws: DockerfileError.self) { try DockerfileParser.parse("# escape=`\n# escape=\\\nFROM x\n") }
        #expect(throws: DockerfileError.self) { try DockerfileParser.parse("# escape=x\nFROM x\n") }
        #expect(try DockerfileParser.parse("# syntax=docker/dockerfile:1\nFROM x\n").directives["syntax"] == "docker/dockerfile:1")
    }

    /// BC-33 (d): a heredoc's body is kept verbatim, backticks and all, for its interpreter.
    @Test func heredocs() throws {
        let text = "RUN <<EOF bash\n# a `comment` with backticks\necho hi\nEOF\nRUN <<-'END'\n\techo $HOME\n\tEND\nCOPY <<one <<two /dst/\n1\none\n2\ntwo\n"
        let all = try commands(text)
        #expect(all.count == 3)
        #expect(all[0] == .run(.shell("<<EOF bash"), heredocs: [Heredoc(name: "EOF", body: "# a `comment` with backticks\necho hi\n", quoted: false, stripsTabs: false)], network: nil))
        #expect(all[1] == .run(.shell("<<-'END'"), heredocs: [Heredoc(name: "END", body: "echo $HOME\n", quoted: true, stripsTabs: true)], network: nil))
        guard case .copy(let copy) = all[2] else { Issue.record("not a COPY"); return }
        #expect(copy.sources == ["<<one", "<<two"])
        #expect(copy.heredocs.map(\.body) == ["1\n", "2\n"])
    }

    @Test func stagesAndGlobalArguments() throws {
        let file = try DockerfileParser.parse("ARG BASE=busybox\nFROM $BASE AS Build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n")
        #expect(file.globalArguments.count == 1)
        #expect(file.stages.map(\.name) == ["build", nil])
        #expect(file.stages.map(\.base) == ["$BASE", "scratch"])
        #expect(file.stageIndex(named: "BUILD") == 0)
        #expect(file.stageIndex(named: "1") == 1)
        #expect(file.stages[0].instructions.first?.line == 3)
    }

    @Test func windowsLineEndingsAndIndentation() throws {
        #expect(try commands("  RUN a\r\n\tWORKDIR /x\r\n") == [.run(.shell("a"), heredocs: [], network: nil), .workdir("/x")])
    }
}

