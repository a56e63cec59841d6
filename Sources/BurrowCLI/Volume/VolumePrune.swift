import BurrowLaunch
import BurrowSandbox
import BurrowStorage
import BurrowStore
import BurrowSystem
import Glibc

/// `burrow volume prune`: as Docker since 23.0, the anonymous volumes no
/// container uses, or with `--all` every unused volume.
enum VolumePrune: Command {
    static let spec = CommandSpec("volume prune", summary: "Remove unused local volumes", options: [
        OptionSpec("all", short: "a", help: "Remove every unused volume, not only anonymous ones"),
        OptionSpec("force", short: "f", help: "Do not ask for confirmation"),
        OptionSpec("filter", value: "KEY=VALUE", repeatable: true, help: "label=KEY[=VALUE] or label!=KEY[=VALUE]"),
    ], maximumPositionals: 0)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let filter = try VolumeFilter(arguments.values("filter"), allowed: ["label", "label!"])
        let all = arguments.flag("all")
        if !UserNamespaceHelper.isInside {
            if !arguments.flag("force") && !confirm(all: all) { return 0 }
            // Inside the user namespace, where a volume's files of subordinate
            // ids can be counted and deleted; asked once, out here.
            _ = StorageProbe.current(store: try context.store())
            return try UserNamespaceHelper.run(context.arguments + ["--force"], mapping: context.identity.mapping(.rootless))
        }
        let store = try context.store()
        store.sweepStaging()
        let lock = try store.lock(.exclusive)
        defer { _ = lock }
        let used = Set(try store.containers().flatMap { $0.mounts.compactMap(\.volume) })
        let removal = VolumeRemoval(store: store, identity: context.identity)
        var deleted: [String] = []
        var reclaimed: Int64 = 0
        var failed = false
        for volume in try store.volumes() where !used.contains(volume.name) && (all || volume.isAnonymous) && filter.matches(volume, used: false) {
            do {
                reclaimed += try removal.remove(volume.name)
                deleted.append(volume.name)
            } catch {
                Context.standardError("burrow: \(error)\n")
                failed = true
            }
        }
        if !deleted.isEmpty { context.out((["Deleted Volumes:"] + deleted + [""]).joined(separator: "\n")) }
        context.out("Total reclaimed space: \(HumanSize.format(reclaimed, precision: 4))")
        return failed ? 125 : 0
    }

    /// Docker's question; anything but y or yes (or no answer) declines.
    static func confirm(all: Bool) -> Bool {
        let what = all ? "all local volumes" : "anonymous local volumes"
        print("WARNING! This will remove \(what) not used by at least one container.\nAre you sure you want to continue? [y/N] ", terminator: "")
        fflush(nil)
        let answer = readLine()?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() ?? ""
        return answer == "y" || answer == "yes"
    }
}
