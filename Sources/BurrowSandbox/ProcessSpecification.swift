import BurrowOCI

/// The container's program, environment and directory, from the image's
/// configuration and the options, with Docker's rules.
public struct ProcessSpecification: Sendable, Equatable {
    public let arguments: [String]
    public let environment: [String]
    public let workingDirectory: String
    public let user: String

    public static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    public enum SpecificationError: Error, Equatable, CustomStringConvertible {
        case noCommand
        case relativeWorkingDirectory(String)
        case badEnvironment(String)

        public var description: String {
            switch self {
            case .noCommand: return "no command specified: give one after the image name (the image has no CMD or ENTRYPOINT)"
            case .relativeWorkingDirectory(let dir): return "the working directory '\(dir)' is invalid: it needs to be an absolute path"
            case .badEnvironment(let entry): return "invalid environment variable \"\(entry)\": use NAME=VALUE"
            }
        }
    }

    /// `--entrypoint` replaces the image's entrypoint and clears its Cmd;
    /// arguments after the image replace Cmd.
    public static func arguments(config: ContainerConfiguration?, command: [String], entrypoint: String?) throws(SpecificationError) -> [String] {
        let entry: [String]
        if let entrypoint {
            entry = entrypoint.isEmpty ? [] : [entrypoint]
        } else {
            entry = config?.entrypoint ?? []
        }
        let cmd = !command.isEmpty ? command : (entrypoint != nil ? [] : config?.cmd ?? [])
        let arguments = entry + cmd
        if arguments.isEmpty || arguments[0].isEmpty { throw .noCommand }
        return arguments
    }

    /// `-e NAME` (no value) takes the caller's value, or is dropped when
    /// the caller has none; files hold one NAME=VALUE per line, # comments.
    public static func userEnvironment(flags: [String], files: [(path: String, text: String)], lookup: (String) -> String?) throws(SpecificationError) -> [String] {
        var entries: [String] = []
        func take(_ raw: Substring) throws(SpecificationError) {
            let entry = raw.drop { $0 == " " || $0 == "\t" }
            if entry.isEmpty || entry.hasPrefix("#") { return }
            let name = entry.prefix { $0 != "=" }
            if name.isEmpty || name.contains(where: { $0.isWhitespace }) { throw .badEnvironment(String(entry)) }
            if entry.firstIndex(of: "=") != nil {
                entries.append(String(entry))
            } else if let value = lookup(String(entry)) {
                entries.append("\(entry)=\(value)")
            }
        }
        for file in files {
            for line in file.text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
                try take(line)
            }
        }
        for flag in flags {
            if flag.isEmpty { throw .badEnvironment(flag) }
            try take(Substring(flag))
        }
        return entries
    }

    /// Docker's order: PATH, HOSTNAME, then the image's variables and the
    /// user's (a later NAME replaces an earlier one in place), HOME last when
    /// nothing set it.
    public static func environment(image: [String], user: [String], hostname: String, home: String) -> [String] {
        var result: [String] = [defaultPath, "HOSTNAME=\(hostname)"]
        func put(_ entry: String) {
            let name = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            if let index = result.firstIndex(where: { $0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0] == name }) {
                result[index] = entry
            } else {
                result.append(entry)
            }
        }
        for entry in image + user where !entry.isEmpty { put(entry) }
        if !result.contains(where: { $0.hasPrefix("HOME=") }) { result.append("HOME=\(home)") }
        return result
    }

    public static func workingDirectory(image: String?, option: String?) throws(SpecificationError) -> String {
        if let option {
            guard option.hasPrefix("/") else { throw .relativeWorkingDirectory(option) }
            return option
        }
        guard let image, !image.isEmpty else { return "/" }
        return image.hasPrefix("/") ? image : "/" + image
    }

    public static func searchPath(in environment: [String]) -> String? {
        environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
    }
}
