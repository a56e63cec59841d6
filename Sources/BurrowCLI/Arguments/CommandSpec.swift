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

/// A command: its name, what it takes, and where parsing stops. A
/// subcommand's name is its whole path: "volume create".
public struct CommandSpec: Sendable {
    public let name: String
    /// Other names it answers to as a subcommand (`volume list` for `volume ls`).
    public let aliases: [String]
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
                hidden: Bool = false, aliases: [String] = []) {
        self.name = name
        self.aliases = aliases
        self.arguments = arguments
        self.summary = summary
        self.options = options + [OptionSpec("help", help: "Print usage")]
        self.optionsEndAtFirstPositional = optionsEndAtFirstPositional
        self.minimumPositionals = minimumPositionals
        self.maximumPositionals = maximumPositionals
        self.hidden = hidden
    }

    public var usage: String { "burrow \(name) [OPTIONS]" + (arguments.isEmpty ? "" : " \(arguments)") }
    public var manPage: String { "burrow-" + name.split(separator: " ").joined(separator: "-") }
    /// The last word of the name: what follows its group on the command line.
    public var word: String { name.split(separator: " ").last.map(String.init) ?? name }
}
