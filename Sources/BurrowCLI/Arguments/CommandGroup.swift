/// A command made of subcommands, as Docker's management commands
/// (`burrow volume create`, later `burrow container prune`): the group
/// itself only prints its help, and dispatch (CLI.swift) goes on to the
/// subcommand named next. A subcommand's spec names its whole path
/// ("volume create"), so its usage, its errors and its man page
/// (burrow-volume-create.1) all say it in full.
protocol CommandGroup: Command {
    static var subcommands: [any Command.Type] { get }
}

extension CommandGroup {
    /// `burrow volume` alone: the group's help, as `docker volume` prints it.
    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        print(Help.group(self))
        return 0
    }

    static func subcommand(named word: String) -> (any Command.Type)? {
        subcommands.first { $0.spec.word == word || $0.spec.aliases.contains(word) }
    }

    static var visibleSubcommands: [CommandSpec] { subcommands.map { $0.spec }.filter { !$0.hidden } }
}
