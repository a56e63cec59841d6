/// `burrow volume`: Docker's volume commands.
enum Volume: CommandGroup {
    static let spec = CommandSpec("volume", arguments: "COMMAND", summary: "Manage volumes")
    static let subcommands: [any Command.Type] = [VolumeCreate.self, VolumeInspect.self, VolumeList.self, VolumePrune.self, VolumeRemove.self]
}
