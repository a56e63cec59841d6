/// One instruction of a Dockerfile, as written: where it starts, its
/// keyword, its flags, and what follows them, with nothing expanded yet
/// (variables are expanded by the executor, which knows their values).
public struct Instruction: Sendable, Equatable {
    /// 1-based line of the keyword.
    public var line: Int
    public var command: Command
    /// The instruction's text as one line (continuations joined), for the
    /// cache key, history and progress.
    public var text: String

    public init(line: Int, command: Command, text: String) {
        self.line = line
        self.command = command
        self.text = text
    }

    public var keyword: String { command.keyword }
}

/// A command line in shell form (run by the SHELL) or exec form (a JSON array).
public enum CommandLine: Sendable, Equatable {
    case shell(String)
    case exec([String])
}

/// A heredoc: `<<EOF` (or `<<-EOF`, `<<"EOF"`) and the lines up to its terminator.
public struct Heredoc: Sendable, Equatable {
    public var name: String
    public var body: String
    /// The terminator was quoted: no variable is expanded in the body.
    public var quoted: Bool
    /// `<<-`: leading tabs of the body and terminator were removed.
    public var stripsTabs: Bool

    public init(name: String, body: String, quoted: Bool, stripsTabs: Bool) {
        self.name = name
        self.body = body
        self.quoted = quoted
        self.stripsTabs = stripsTabs
    }
}

/// COPY and ADD: sources (context paths, URLs, or heredoc names) and one destination.
public struct CopyCommand: Sendable, Equatable {
    public var sources: [String]
    public var destination: String
    public var from: String?
    public var chown: String?
    public var chmod: String?
    public var link: Bool
    public var heredocs: [Heredoc]

    public init(sources: [String], destination: String, from: String? = nil, chown: String? = nil, chmod: String? = nil,
                link: Bool = false, heredocs: [Heredoc] = []) {
        self.sources = sources
        self.destination = destination
        self.from = from
        self.chown = chown
        self.chmod = chmod
        self.link = link
        self.heredocs = heredocs
    }
}

public struct HealthCheck: Sendable, Equatable {
    /// nil: HEALTHCHECK NONE (the base image's check is disabled).
    public var test: CommandLine?
    public var interval: String?
    public var timeout: String?
    public var startPeriod: String?
    public var startInterval: String?
    public var retries: String?

    public init(test: CommandLine?, interval: String? = nil, timeout: String? = nil, startPeriod: String? = nil,
                startInterval: String? = nil, retries: String? = nil) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }
}

/// A `KEY=VALUE` pair of ENV or LABEL, or an ARG with its optional default,
/// still unexpanded and with its quotes.
public struct Assignment: Sendable, Equatable {
    public var key: String
    public var value: String?
    public init(_ key: String, _ value: String?) {
        self.key = key
        self.value = value
    }
}

public enum Command: Sendable, Equatable {
    case from(image: String, name: String?, platform: String?)
    case run(CommandLine, heredocs: [Heredoc], network: String?)
    case cmd(CommandLine)
    case entrypoint(CommandLine)
    case shell([String])
    /// ENV and LABEL values keep their quotes: they are expanded, then unquoted.
    case env([Assignment])
    case label([Assignment])
    case arg([Assignment])
    case expose([String])
    case workdir(String)
    case user(String)
    case copy(CopyCommand)
    case add(CopyCommand)
    case volume([String])
    case stopSignal(String)
    case healthCheck(HealthCheck)
    /// The trigger, an instruction's text, recorded for images built FROM this one.
    case onBuild(String)
    case maintainer(String)

    public var keyword: String {
        switch self {
        case .from: return "FROM"
        case .run: return "RUN"
        case .cmd: return "CMD"
        case .entrypoint: return "ENTRYPOINT"
        case .shell: return "SHELL"
        case .env: return "ENV"
        case .label: return "LABEL"
        case .arg: return "ARG"
        case .expose: return "EXPOSE"
        case .workdir: return "WORKDIR"
        case .user: return "USER"
        case .copy: return "COPY"
        case .add: return "ADD"
        case .volume: return "VOLUME"
        case .stopSignal: return "STOPSIGNAL"
        case .healthCheck: return "HEALTHCHECK"
        case .onBuild: return "ONBUILD"
        case .maintainer: return "MAINTAINER"
        }
    }
}
