/// Text in, instructions out: the Dockerfile reference's grammar, with no
/// file, no variable value and no image in sight.
public enum DockerfileParser {
    public static func parse(_ text: String, file: String = "Dockerfile") throws(DockerfileError) -> Dockerfile {
        do {
            return try parseLines(text)
        } catch var error as DockerfileError {
            error.file = file
            throw error
        } catch {
            throw DockerfileError(line: 0, "\(error)", file: file)
        }
    }

    static func parseLines(_ text: String) throws -> Dockerfile {
        let logical = try LogicalLines(text)
        var globals: [Instruction] = []
        var stages: [Stage] = []
        for line in logical.lines {
            let instruction = try instruction(line, escape: logical.escape)
            switch instruction.command {
            case .from(let image, let name, _):
                if let name, stages.contains(where: { $0.name?.lowercased() == name.lowercased() }) {
                    throw DockerfileError(line: line.number, "duplicate stage name \"\(name)\"")
                }
                stages.append(Stage(index: stages.count, from: instruction, name: name, base: image, instructions: []))
            case .arg where stages.isEmpty:
                globals.append(instruction)
            default:
                guard !stages.isEmpty else {
                    throw DockerfileError(line: line.number, "\(instruction.keyword) before the first FROM: only ARG may come before it")
                }
                stages[stages.count - 1].instructions.append(instruction)
            }
        }
        guard !stages.isEmpty else { throw DockerfileError(line: 0, "the Dockerfile has no FROM instruction") }
        return Dockerfile(directives: logical.directives, globalArguments: globals, stages: stages)
    }

    static func instruction(_ line: LogicalLines.Line, escape: Character) throws -> Instruction {
        let text = line.text.trimmingWhitespace
        let keyword = String(text.prefix { $0 != " " && $0 != "\t" })
        let rest = String(text.dropFirst(keyword.count)).trimmingWhitespace
        let command = try self.command(keyword.uppercased(), rest, heredocs: line.heredocs, escape: escape, line: line.number)
        return Instruction(line: line.number, command: command, text: "\(keyword.uppercased()) \(rest)".trimmingWhitespace)
    }

    static func command(_ keyword: String, _ rest: String, heredocs: [Heredoc], escape: Character, line: Int) throws -> Command {
        func fail(_ message: String) -> DockerfileError { DockerfileError(line: line, message) }
        func requireArguments() throws {
            if rest.isEmpty { throw fail("\(keyword) requires at least one argument") }
        }
        switch keyword {
        case "FROM":
            let (flags, body) = try Flags.take(rest, allowed: ["platform"], keyword: keyword, line: line)
            let words = body.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if words.count == 1 { return .from(image: words[0], name: nil, platform: flags.value("platform")) }
            guard words.count == 3, words[1].lowercased() == "as" else { throw fail("FROM requires either one or three arguments (FROM IMAGE [AS NAME])") }
            guard isValidStageName(words[2]) else { throw fail("invalid stage name \"\(words[2])\": use letters, digits, -, _ and ., starting with a letter") }
            return .from(image: words[0], name: words[2].lowercased(), platform: flags.value("platform"))
        case "RUN":
            let (flags, body) = try Flags.take(rest, allowed: ["network", "mount", "security"], keyword: keyword, line: line)
            if flags.value("mount") != nil { throw fail("RUN --mount is not supported yet") }
            if let security = flags.value("security"), security != "sandbox" { throw fail("RUN --security=\(security) is not supported: builds never get extra privileges") }
            if body.isEmpty { throw fail("RUN requires at least one argument") }
            return .run(commandLine(body), heredocs: heredocs, network: flags.value("network"))
        case "CMD":
            return .cmd(commandLine(rest))
        case "ENTRYPOINT":
            return .entrypoint(commandLine(rest))
        case "SHELL":
            guard let words = JSONStringArray.parse(rest), !words.isEmpty else { throw fail("SHELL requires the arguments to be in JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]") }
            return .shell(words)
        case "ENV":
            try requireArguments()
            return .env(try assignments(rest, escape: escape, keyword: keyword, allowLegacy: true, line: line))
        case "LABEL":
            try requireArguments()
            return .label(try assignments(rest, escape: escape, keyword: keyword, allowLegacy: false, line: line))
        case "ARG":
            try requireArguments()
            return .arg(try QuotedWords.split(rest, escape: escape).map { word in
                guard let equals = word.firstIndex(of: "=") else { return Assignment(word, nil) }
                return Assignment(String(word[..<equals]), String(word[word.index(after: equals)...]))
            })
        case "EXPOSE":
            try requireArguments()
            return .expose(try QuotedWords.split(rest, escape: escape))
        case "WORKDIR":
            try requireArguments()
            return .workdir(rest)
        case "USER":
            try requireArguments()
            return .user(rest)
        case "COPY", "ADD":
            let allowed: Set<String> = keyword == "COPY" ? ["from", "chown", "chmod", "link", "parents", "exclude"] : ["chown", "chmod", "link", "checksum", "keep-git-dir", "exclude"]
            let (flags, body) = try Flags.take(rest, allowed: allowed, keyword: keyword, line: line)
            for unsupported in ["parents", "exclude", "checksum", "keep-git-dir"] where flags.value(unsupported) != nil {
                throw fail("\(keyword) --\(unsupported) is not supported yet")
            }
            var words = try JSONStringArray.parse(body) ?? QuotedWords.split(body, escape: escape)
            guard words.count >= 2 else { throw fail("\(keyword) requires at least two arguments, but got \(words.count)") }
            let destination = words.removeLast()
            let copy = CopyCommand(sources: words, destination: destination, from: flags.value("from"), chown: flags.value("chown"),
                                   chmod: flags.value("chmod"), link: flags.value("link").map { $0 != "false" } ?? false, heredocs: heredocs)
            return keyword == "COPY" ? .copy(copy) : .add(copy)
        case "VOLUME":
            try requireArguments()
            return .volume(try JSONStringArray.parse(rest) ?? QuotedWords.split(rest, escape: escape))
        case "STOPSIGNAL":
            let words = try QuotedWords.split(rest, escape: escape)
            guard words.count == 1 else { throw fail("STOPSIGNAL requires exactly one argument") }
            return .stopSignal(words[0])
        case "HEALTHCHECK":
            let (flags, body) = try Flags.take(rest, allowed: ["interval", "timeout", "start-period", "start-interval", "retries"], keyword: keyword, line: line)
            let word = body.prefix { $0 != " " && $0 != "\t" }.uppercased()
            if word == "NONE" {
                guard body.trimmingWhitespace.uppercased() == "NONE" else { throw fail("HEALTHCHECK NONE takes no other arguments") }
                return .healthCheck(HealthCheck(test: nil))
            }
            guard word == "CMD" else { throw fail("HEALTHCHECK requires NONE or CMD COMMAND") }
            let command = String(body.dropFirst(3)).trimmingWhitespace
            if command.isEmpty { throw fail("HEALTHCHECK CMD requires a command") }
            return .healthCheck(HealthCheck(test: commandLine(command), interval: flags.value("interval"), timeout: flags.value("timeout"),
                                            startPeriod: flags.value("start-period"), startInterval: flags.value("start-interval"),
                                            retries: flags.value("retries")))
        case "ONBUILD":
            try requireArguments()
            let trigger = rest.prefix { $0 != " " && $0 != "\t" }.uppercased()
            if trigger == "ONBUILD" || trigger == "FROM" || trigger == "MAINTAINER" {
                throw fail("\(trigger) is not allowed as an ONBUILD trigger")
            }
            return .onBuild(rest)
        case "MAINTAINER":
            try requireArguments()
            return .maintainer(rest)
        default:
            throw fail("unknown instruction \(keyword)")
        }
    }

    /// Exec form when the text is a JSON array of strings, shell form otherwise (as Docker).
    static func commandLine(_ text: String) -> CommandLine {
        if text.hasPrefix("["), let words = JSONStringArray.parse(text) { return .exec(words) }
        return .shell(text)
    }

    /// ENV and LABEL: `KEY=VALUE ...`, or ENV's legacy `KEY VALUE WITH SPACES`.
    static func assignments(_ text: String, escape: Character, keyword: String, allowLegacy: Bool, line: Int) throws -> [Assignment] {
        let words = try QuotedWords.split(text, escape: escape)
        if allowLegacy, let first = words.first, !first.contains("=") {
            let value = String(text.dropFirst(first.count)).trimmingWhitespace
            guard !value.isEmpty else { throw DockerfileError(line: line, "ENV must have two arguments (ENV KEY VALUE, or ENV KEY=VALUE)") }
            return [Assignment(first, value)]
        }
        return try words.map { word in
            guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
                throw DockerfileError(line: line, "\(keyword) names \(word) without a value: write \(word)=VALUE")
            }
            return Assignment(String(word[..<equals]), String(word[word.index(after: equals)...]))
        }
    }

    static func isValidStageName(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter else { return false }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
    }
}

/// Leading `--name=value` (or `--name`) words of FROM, RUN, COPY, ADD, HEALTHCHECK.
struct Flags {
    private var values: [String: String] = [:]

    func value(_ name: String) -> String? { values[name] }

    static func take(_ text: String, allowed: Set<String>, keyword: String, line: Int) throws -> (Flags, String) {
        var flags = Flags()
        var rest = Substring(text)
        while rest.hasPrefix("--") {
            let word = rest.prefix { $0 != " " && $0 != "\t" }
            rest = rest.dropFirst(word.count).drop { $0 == " " || $0 == "\t" }
            let body = word.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            guard allowed.contains(name) else { throw DockerfileError(line: line, "unknown flag --\(name) for \(keyword)") }
            flags.values[name] = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : "true"
        }
        return (flags, String(rest))
    }
}
