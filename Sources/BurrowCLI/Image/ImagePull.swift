import BurrowOCI
import BurrowSystem
import BurrowTransport
import Glibc

enum ImagePull: Command {
    static let spec = CommandSpec("pull", arguments: "NAME[:TAG|@DIGEST]", summary: "Download an image from a registry", options: [
        OptionSpec("platform", value: "OS/ARCH[/VARIANT]", help: "Pull the image for this platform instead of this machine's"),
        OptionSpec("quiet", short: "q", help: "Show no progress; print only the image ID"),
        OptionSpec("all-tags", short: "a", help: "Pull every tag of the repository"),
    ], minimumPositionals: 1, maximumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let text = arguments.positionals[0]
        let reference = try parse(text)
        let platform = try platformOption(arguments.value("platform"))
        if let code = try context.reenterUserNamespace() { return code }
        let quiet = arguments.flag("quiet")
        let store = try context.store()
        store.sweepStaging()
        if arguments.flag("all-tags") {
            guard !text.contains("@"), (try? ImageReference(parsing: text + ":x")) != nil else {
                throw BurrowError.invalidArgument("--all-tags takes a repository without a tag or digest: \(text)")
            }
            let settings = try RegistrySettings.load(home: context.identity.user.home)
            let puller = ImagePuller(store: store, ownership: .currentNamespace(), whiteouts: StorageProbeAccess.whiteouts(store),
                                     progress: LayerBoard(quiet: quiet), settings: settings)
            for tag in try puller.tags(of: reference).sorted() {
                let tagged = reference.withTag(tag)
                if !quiet { context.out("\(tag): Pulling from \(reference.path)") }
                let pulled = try puller.pull(tagged, platform: platform)
                if quiet { context.out(pulled.id.description) } else if isatty(1) != 1 || isatty(2) != 1 {
                    for note in pulled.layerNotes { context.out(note) }
                }
                if !quiet { context.out("Digest: \(pulled.manifestDigest)") }
            }
            if !quiet { context.out(reference.repository) }
            return 0
        }
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

    /// Runs `burrow pull IMAGE` as a child, its output on standard error (so
    /// that the caller's standard output stays its own), for run, create and build.
    static func pullInChild(_ image: String, _ context: Context) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
        let argv = ["burrow", "--root", context.rootPath, "pull", image]
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/proc/self/exe", &actions, nil, &cArguments, environ)
        guard rc == 0 else { throw SystemError("posix_spawn", path: "/proc/self/exe", errno: rc) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status != 0 {
            throw BurrowError.notFound("cannot pull \(image) (the reason is above): check the name, or load the image with 'burrow load'")
        }
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
