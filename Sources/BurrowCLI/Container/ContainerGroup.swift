/// `burrow container`: Docker's container management commands that have no
/// top-level form.
enum ContainerGroup: CommandGroup {
    static let spec = CommandSpec("container", arguments: "COMMAND", summary: "Manage containers")
    static let subcommands: [any Command.Type] = [ContainerPrune.self]
}
