/// `burrow --help` and `burrow COMMAND --help`.
enum Help {
    static func general() -> String {
        var lines = ["Usage: burrow [OPTIONS] COMMAND [ARG...]", "",
                     "Run Docker and OCI images without privileges: no daemon, no root.", "", "Commands:"]
        let width = CLI.visibleCommands.map(\.name.count).max() ?? 0
        let groups = Set(CLI.commands.filter { $0 is any CommandGroup.Type }.map { $0.spec.name })
        for spec in CLI.visibleCommands where !groups.contains(spec.name) {
            lines.append("  \(spec.name.padding(width))  \(spec.summary)")
        }
        if !groups.isEmpty {
            lines += ["", "Management Commands:"]
            for spec in CLI.visibleCommands where groups.contains(spec.name) {
                lines.append("  \(spec.name.padding(width))  \(spec.summary)")
            }
        }
        lines += ["", "Options:"]
        lines += optionLines(CLI.allGlobalOptions)
        lines += ["", "Run 'burrow COMMAND --help' for a command's options, 'man -l man/burrow-COMMAND.1' (from the source tree) for its manual."]
        return lines.joined(separator: "\n")
    }

    static func command(_ spec: CommandSpec) -> String {
        var lines = ["Usage: \(spec.usage)", "", spec.summary, ""]
        if !spec.aliases.isEmpty {
            let group = spec.name.split(separator: " ").dropLast().joined(separator: " ")
            lines += ["Aliases:", "  " + ([spec.name] + spec.aliases.map { "\(group) \($0)" }).map { "burrow \($0)" }.joined(separator: ", "), ""]
        }
        lines.append("Options:")
        lines += optionLines(spec.options)
        return lines.joined(separator: "\n")
    }

    /// `burrow volume --help`: the group's subcommands, as Docker lists them.
    static func group(_ group: any CommandGroup.Type) -> String {
        let spec = group.spec
        var lines = ["Usage: burrow \(spec.name) COMMAND", "", spec.summary, "", "Commands:"]
        let members = group.visibleSubcommands
        let width = members.map(\.word.count).max() ?? 0
        for member in members {
            lines.append("  \(member.word.padding(width))  \(member.summary)")
        }
        lines += ["", "Options:"]
        lines += optionLines(spec.options)
        lines += ["", "Run 'burrow \(spec.name) COMMAND --help' for more information on a command."]
        return lines.joined(separator: "\n")
    }

    static func optionLines(_ options: [OptionSpec]) -> [String] {
        let labels = options.map { option -> String in
            let short = option.short.map { "-\($0), " } ?? "    "
            return short + "--\(option.long)" + (option.value.map { " \($0)" } ?? "")
        }
        let width = labels.map(\.count).max() ?? 0
        return zip(labels, options).map { "  \($0.padding(width))  \($1.help)" }
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
