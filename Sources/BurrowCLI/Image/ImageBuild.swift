import BurrowBuild
import BurrowLaunch
import BurrowOCI
import BurrowSandbox
import BurrowSystem
import FoundationEssentials
import Glibc

enum ImageBuild: Command {
    static let spec = CommandSpec("build", arguments: "CONTEXT", summary: "Build an image from a Dockerfile", options: [
        OptionSpec("tag", short: "t", value: "NAME[:TAG]", repeatable: true, help: "Name the image (repeat for more names)"),
        OptionSpec("file", short: "f", value: "FILE", help: "The Dockerfile (default CONTEXT/Dockerfile; - reads it from standard input)"),
        OptionSpec("build-arg", value: "KEY=VALUE", repeatable: true, help: "Set a build argument (an ARG); KEY alone passes the caller's value"),
        OptionSpec("target", value: "STAGE", help: "Build this stage (and the stages it needs) instead of the last"),
        OptionSpec("no-cache", help: "Run every step again instead of reusing cached results"),
        OptionSpec("pull", help: "Pull every base image (FROM) first, even one the store has"),
        OptionSpec("quiet", short: "q", help: "Print only the image id"),
        OptionSpec("iidfile", value: "FILE", help: "Write the image id to FILE"),
        OptionSpec("label", value: "KEY=VALUE", repeatable: true, help: "Set a label on the image (over the Dockerfile's LABELs)"),
        OptionSpec("network", value: "MODE", help: "The network of RUN steps: slirp (the default), none or host"),
        OptionSpec("host-ca", help: "Lend the host's CA bundle to RUN steps, read-only (default true; --host-ca=false to keep it out)"),
        OptionSpec("host-ca-file", value: "FILE", help: "Lend this CA bundle to RUN steps instead of the host's"),
    ], minimumPositionals: 1, maximumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let directory = FileSystem.absolute(arguments.positionals[0])
        guard FileSystem.isDirectory(directory) else {
            throw BurrowError.notFound("the build context \(arguments.positionals[0]) is not a directory: give the directory that holds the Dockerfile and the files it copies")
        }
        var fileOption = arguments.value("file")
        // -f -: the Dockerfile comes on standard input, kept in a file of the build's own.
        var piped: String? = nil
        defer { if let piped { unlink(piped) } }
        if fileOption == "-" {
            guard isatty(0) != 1 else { throw BurrowError.invalidArgument("-f - reads the Dockerfile from standard input, which is a terminal: pipe one in") }
            var template = Array("/tmp/burrow-dockerfile-XXXXXX".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { throw SystemError("create a file for the Dockerfile", path: "/tmp", errno: errno) }
            let owned = FileDescriptor(adopting: fd)
            piped = String(cString: template)
            try owned.writeAll(try FileDescriptor(adopting: dup(0)).readToEnd())
            fileOption = nil
        }
        let dockerfile = piped ?? fileOption.map { FileSystem.absolute($0) } ?? "\(directory)/Dockerfile"
        guard FileSystem.exists(dockerfile) else {
            throw BurrowError.notFound("no Dockerfile at \(dockerfile): write one there, or name it with -f FILE")
        }
        var options = Builder.Options(context: directory, dockerfile: dockerfile,
                                      dockerfileName: fileOption.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "Dockerfile")
        for item in arguments.values("label") {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw BurrowError.invalidArgument("--label \(item): give KEY=VALUE")
            }
            options.labels[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        do {
            options.tags = try arguments.values("tag").map { text in
                let reference = try ImageReference(parsing: text)
                if reference.digest != nil { throw BurrowError.invalidArgument("-t \(text): name the image with a tag, not a digest") }
                return reference
            }
        } catch let error as BurrowError {
            throw error
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }
        for item in arguments.values("build-arg") {
            if let equals = item.firstIndex(of: "=") {
                options.buildArguments[String(item[..<equals])] = String(item[item.index(after: equals)...])
            } else if let value = environment(item) {
                options.buildArguments[item] = value
            }
        }
        options.alwaysPull = arguments.flag("pull")
        // A base image the store lacks is pulled, as docker build does.
        options.pullBase = { name in try ImagePull.pullInChild(name, context) }
        options.target = arguments.value("target")
        options.noCache = arguments.flag("no-cache")
        options.quiet = arguments.flag("quiet")
        do {
            options.network = try NetworkMode.parse(arguments.value("network")).network
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }
        let enabled = try HostCA.enabled(flag: arguments.has("host-ca") ? (arguments.flag("host-ca") ? "true" : "false") : nil, fallback: true)
        options.hostCA = try HostCA.bundle(enabled: enabled, file: arguments.value("host-ca-file"), asked: arguments.flag("host-ca"), warn: context.warn)

        let store = try context.store()
        let root = context.rootPath
        let identity = context.identity
        let terminal = isatty(1) == 1
        let builder = try Builder(store: store, identity: identity, options: options, helper: { request in
            try UserNamespaceHelper.run(["--root", root, "__build", "apply", request], mapping: try identity.mapping(.rootless))
        }, say: { line in
            // On a terminal the steps stand out from the RUN output between them.
            context.out(terminal && line.hasPrefix("Step ") ? "\u{1B}[1m\(line)\u{1B}[0m" : line)
            // Before a RUN step's own output, which does not pass through this process.
            fflush(nil)
        })
        let id = try builder.build()
        if let path = arguments.value("iidfile") { try FileSystem.writeFile(path, Array(id.description.utf8)) }
        if options.quiet { context.out(id.description) }
        return 0
    }
}

/// `burrow __build apply REQUEST`: a build step's file work, inside the user namespace.
enum BuildHelper: Command {
    static let spec = CommandSpec("__build", arguments: "apply REQUEST", summary: "Internal: a build step's files inside the user namespace",
                                  minimumPositionals: 2, maximumPositionals: 2, hidden: true)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        guard arguments.positionals[0] == "apply", UserNamespaceHelper.isInside else {
            throw BurrowError.invalidArgument("usage: burrow __build apply REQUEST (run by burrow build)")
        }
        let store = try context.store()
        let request = try JSONDecoder().decode(FileStepRequest.self, from: Data(try FileSystem.readFile(arguments.positionals[1])))
        try StepApplier.apply(request, store: store, whiteouts: StorageProbeAccess.whiteouts(store))
        return 0
    }
}
