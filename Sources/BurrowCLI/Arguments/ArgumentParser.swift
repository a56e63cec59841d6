import BurrowSystem

/// The options and positional arguments of one command line, parsed as the
/// Docker CLI parses them: `--name value`, `--name=value`, `-e K=V`,
/// `-eK=V`, `-it` for two flags, `--` to end the options.
public struct ParsedArguments: Sendable {
    var values: [String: [String]] = [:]
    public var positionals: [String] = []

    public func flag(_ long: String) -> Bool {
        guard let last = values[long]?.last else { return false }
        return last != "false"
    }

    public func value(_ long: String) -> String? { values[long]?.last }
    public func values(_ long: String) -> [String] { values[long] ?? [] }
    public func has(_ long: String) -> Bool { values[long] != nil }
}

public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum ArgumentParser {
    public static func parse(_ arguments: [String], for spec: CommandSpec) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        let hint = "see 'burrow \(spec.name) --help'"

        func option(long: String) -> OptionSpec? { spec.options.first { $0.long == long } }
        func option(short: Character) -> OptionSpec? { spec.options.first { $0.short == short } }
        func record(_ option: OptionSpec, _ value: String) { parsed.values[option.long, default: []].append(value) }

        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                parsed.positionals += arguments[index...]
                break
            }
            if argument.hasPrefix("--") && argument.count > 2 {
                let body = argument.dropFirst(2)
                let name = String(body.prefix { $0 != "=" })
                let inline: String? = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
                guard let option = option(long: name) else { throw UsageError("unknown flag: --\(name) (\(hint))") }
                if option.takesValue {
                    if let inline {
                        record(option, inline)
                    } else {
                        guard index < arguments.count else { throw UsageError("flag needs an argument: --\(name) (\(hint))") }
                        record(option, arguments[index])
                        index += 1
                    }
                } else {
                    if let inline, inline != "true" && inline != "false" {
                        throw UsageError("invalid value \"\(inline)\" for flag --\(name): use true or false")
                    }
                    record(option, inline ?? "true")
                }
                continue
            }
            if argument.hasPrefix("-") && argument.count > 1 {
                var characters = Substring(argument.dropFirst())
                while let letter = characters.first {
                    characters = characters.dropFirst()
                    guard let option = option(short: letter) else {
                        throw UsageError("unknown shorthand flag: '\(letter)' in \(argument) (\(hint))")
                    }
                    if option.takesValue {
                        if !characters.isEmpty {
                            record(option, String(characters.hasPrefix("=") ? characters.dropFirst() : characters))
                        } else {
                            guard index < arguments.count else { throw UsageError("flag needs an argument: -\(letter) (\(hint))") }
                            record(option, arguments[index])
                            index += 1
                        }
                        break
                    }
                    record(option, "true")
                }
                continue
            }
            parsed.positionals.append(argument)
            if spec.optionsEndAtFirstPositional {
                parsed.positionals += arguments[index...]
                break
            }
        }
        if parsed.flag("help") { return parsed }
        if parsed.positionals.count < spec.minimumPositionals {
            throw UsageError("\"burrow \(spec.name)\" requires \(spec.minimumPositionals == 1 ? "at least 1 argument" : "at least \(spec.minimumPositionals) arguments"): usage: \(spec.usage)")
        }
        if let maximum = spec.maximumPositionals, parsed.positionals.count > maximum {
            let count = maximum == 0 ? "no arguments" : "at most \(maximum) argument\(maximum == 1 ? "" : "s")"
            throw UsageError("\"burrow \(spec.name)\" takes \(count): usage: \(spec.usage)")
        }
        return parsed
    }
}
