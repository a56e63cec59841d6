/// One option of a command, as parsing, `--help` and the man page test read it.
public struct OptionSpec: Sendable {
    public let long: String
    public let short: Character?
    /// nil for a flag; the value's name in help ("KEY=VALUE") otherwise.
    public let value: String?
    public let repeatable: Bool
    public let help: String

    public init(_ long: String, short: Character? = nil, value: String? = nil, repeatable: Bool = false, help: String) {
        self.long = long
        self.short = short
        self.value = value
        self.repeatable = repeatable
        self.help = help
    }

    public var takesValue: Bool { value != nil }
}

/// A command: its name, what it takes, and where parsing stops.
public struct CommandSpec: Sendable {
    public let name: String
    public let arguments: String
    public let summary: String
    public let options: [OptionSpec]
    /// `run IMAGE COMMAND...`: options end at the first positional argument.
    public let optionsEndAtFirstPositional: Bool
    public let minimumPositionals: Int
    public let maximumPositionals: Int?
    /// Internal commands: not in help, no man page.
    public let hidden: Bool

    public init(_ name: String, arguments: String = "", summary: String, options: [OptionSpec] = [],
                optionsEndAtFirstPositional: Bool = false, minimumPositionals: Int = 0, maximumPositionals: Int? = nil,
                hidden: Bool = false) {
        self.name = name
        self.arguments = arguments
        self.summary = summary
        self.options = options + [OptionSpec("help", help: "Print usage")]
        self.optionsEndAtFirstPositional = optionsEndAtFirstPositional
        self.minimumPositionals = minimumPositionals
        self.maximumPositionals = maximumPositionals
        self.hidden = hidden
    }

    public var usage: String { "burrow \(name) [OPTIONS]" + (arguments.isEmpty ? "" : " \(arguments)") }
    public var manPage: String { "burrow-\(name)" }
}
