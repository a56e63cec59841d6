import BurrowOCI
import BurrowSystem
import BurrowTransport
import Glibc

enum ImagePush: Command {
    static let spec = CommandSpec("push", arguments: "NAME[:TAG]", summary: "Upload an image to a registry", options: [
        OptionSpec("quiet", short: "q", help: "Show no progress; print only the manifest digest"),
    ], minimumPositionals: 1, maximumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let text = arguments.positionals[0]
        let reference = try ImagePull.parse(text)
        if reference.digest != nil { throw BurrowError.invalidArgument("push takes a name and tag, not a digest: \(text)") }
        let quiet = arguments.flag("quiet")
        let store = try context.store()
        let id: Digest
        do {
            id = try store.resolveImage(text)
        } catch let error as BurrowError where error.code == .notFound {
            throw BurrowError.notFound("image \(reference.familiar) is not in the store: give it this name first with 'burrow tag IMAGE \(reference.familiar)'")
        }
        let settings = try RegistrySettings.load(home: context.identity.user.home)
        let pusher = ImagePusher(store: store, settings: settings, progress: LayerBoard(quiet: quiet, verb: "Pushing"))
        if !quiet { context.out("The push refers to repository [\(reference.repository)]") }
        let pushed = try pusher.push(id, to: reference)
        if quiet {
            context.out(pushed.digest.description)
            return 0
        }
        if isatty(1) != 1 || isatty(2) != 1 { for note in pushed.layerNotes { context.out(note) } }
        context.out("\(reference.tag ?? "latest"): digest: \(pushed.digest) size: \(pushed.size)")
        return 0
    }
}
