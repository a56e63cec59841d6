import BurrowOCI
import BurrowSystem
import BurrowTransport
import Glibc

enum ImagePull: Command {
    static let spec = CommandSpec("pull", arguments: "NAME[:TAG|@DIGEST]", summary: "Download an image from a registry", options: [
        OptionSpec("platform", value: "OS/ARCH[/VARIANT]", help: "Pull the image for this platform instead of this machine's"),
        OptionSpec("quiet", short: "q", help: "Show no progress; print only the image ID"),
    ], minimumPositionals: 1, maximumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let text = arguments.positionals[0]
        let reference = try parse(text)
        let platform = try platformOption(arguments.value("platform"))
        if let code = try context.reenterUserNamespace() { return code }
        let quiet = arguments.flag("quiet")
        let store = try context.store()
        store.sweepStaging()
        if !quiet, let tag = reference.tag, reference.digest == nil {
            context.out("\(tag): Pulling from \(reference.path)")
        }
        let previous = try store.tags()[reference.description]
        let settings = try RegistrySettings.load(home: context.identity.user.home)
        let puller = ImagePuller(store: store, ownership: .currentNamespace(), whiteouts: StorageProbeAccess.whiteouts(store),
                                 progress: LayerBoard(quiet: quiet), settings: settings)
        let pulled = try puller.pull(reference, platform: platform)
        if quiet {
            context.out(pulled.id.description)
            return 0
        }
        if isatty(1) != 1 || isatty(2) != 1 { for note in pulled.layerNotes { context.out(note) } }
        context.out("Digest: \(pulled.manifestDigest)")
        let upToDate = previous == pulled.id && pulled.fetchedLayers == 0
        context.out("Status: \(upToDate ? "Image is up to date" : "Downloaded newer image") for \(reference.familiar)")
        context.out(reference.description)
        return 0
    }

    /// `busybox:latest` for "busybox", as Docker names a missing image.
    static func familiarName(_ text: String) -> String {
        (try? ImageReference(parsing: text))?.familiar ?? text
    }

    static func parse(_ text: String) throws -> ImageReference {
        do {
            return try ImageReference(parsing: text)
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }
    }

    static func platformOption(_ text: String?) throws -> Platform {
        guard let text else { return Platform.host }
        guard let platform = Platform(parsing: text) else {
            throw BurrowError.invalidArgument("invalid platform \(text): give os/arch[/variant], e.g. linux/amd64 or linux/arm/v7")
        }
        return platform
    }
}
