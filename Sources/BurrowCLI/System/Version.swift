enum Version: Command {
    static let current = "0.1.0"
    static let spec = CommandSpec("version", summary: "Show the burrow version", maximumPositionals: 0)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        context.out("burrow version \(current)")
        return 0
    }
}
