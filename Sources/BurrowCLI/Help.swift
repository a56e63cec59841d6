/// `burrow --help` and `burrow COMMAND --help`.
enum Help {
    static func general() -> String {
        var lines = ["Usage: burrow [OPTIONS] COMMAND [ARG...]", "",
                     "Run Docker and OCI images without privileges: no daemon, no root.", "", "Commands:"]
        let width = CLI.visibleCommands.map(\.name.count).max() ?? 0
        for spec in CLI.visibleCommands {
            lines.append("  \(spec.name.padding(width))  \(spec.summary)")
        }
        lines += ["", "Options:"]
        lines += optionLines(CLI.allGlobalOptions)
        lines += ["", "Run 'burrow COMMAND --help' for a command's options, 'man -l man/burrow-COMMAND.1' (from the source tree) for its manual."]
        return lines.joined(separator: "\n")
    }

    static func command(_ spec: CommandSpec) -> String {
        var lines = ["Usage: \(spec.usage)", "", spec.summary, "", "Options:"]
        lines += optionLines(spec.options)
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
