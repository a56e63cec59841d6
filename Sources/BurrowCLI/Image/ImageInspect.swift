import BurrowOCI
import BurrowStore
import BurrowSystem
import FoundationEssentials

/// `docker inspect`'s JSON for an image: the configuration and the layers.
struct ImageInspection: Encodable {
    let id: Digest
    let repoTags: [String]
    let repoDigests: [String]
    let comment: String
    let created: String
    let author: String
    let config: ContainerConfiguration
    let architecture: String
    let variant: String?
    let os: String
    let size: Int64
    let layers: [Digest]
    let driver: String
    let layerDirectories: [String]
    let added: String

    enum Keys: String, CodingKey {
        case Id, RepoTags, RepoDigests, Parent, Comment, Created, DockerVersion, Author, Config, Architecture, Variant, Os
        case Size, GraphDriver, RootFS, Metadata
    }

    enum ConfigKeys: String, CodingKey {
        case Hostname, Domainname, User, AttachStdin, AttachStdout, AttachStderr, ExposedPorts, Tty, OpenStdin, StdinOnce
        case Env, Cmd, Healthcheck, ArgsEscaped, Image, Volumes, WorkingDir, Entrypoint, OnBuild, Labels, StopSignal, Shell
    }

    struct Named: Encodable {
        let values: [(String, String)]
        struct Key: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for (key, value) in values { try container.encode(value, forKey: Key(stringValue: key)) }
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(id.description, forKey: .Id)
        try c.encode(repoTags, forKey: .RepoTags)
        try c.encode(repoDigests, forKey: .RepoDigests)
        try c.encode("", forKey: .Parent)
        try c.encode(comment, forKey: .Comment)
        try c.encode(created, forKey: .Created)
        try c.encode("", forKey: .DockerVersion)
        try c.encode(author, forKey: .Author)
        var k = c.nestedContainer(keyedBy: ConfigKeys.self, forKey: .Config)
        try k.encode("", forKey: .Hostname)
        try k.encode("", forKey: .Domainname)
        try k.encode(config.user ?? "", forKey: .User)
        try k.encode(false, forKey: .AttachStdin)
        try k.encode(false, forKey: .AttachStdout)
        try k.encode(false, forKey: .AttachStderr)
        if let ports = config.exposedPorts { try k.encode(ports, forKey: .ExposedPorts) }
        try k.encode(false, forKey: .Tty)
        try k.encode(false, forKey: .OpenStdin)
        try k.encode(false, forKey: .StdinOnce)
        try k.encode(config.env, forKey: .Env)
        try k.encode(config.cmd, forKey: .Cmd)
        if let health = config.healthcheck { try k.encode(health, forKey: .Healthcheck) }
        if let escaped = config.argsEscaped { try k.encode(escaped, forKey: .ArgsEscaped) }
        try k.encode("", forKey: .Image)
        try k.encode(config.volumes, forKey: .Volumes)
        try k.encode(config.workingDir ?? "", forKey: .WorkingDir)
        try k.encode(config.entrypoint, forKey: .Entrypoint)
        try k.encode(config.onBuild, forKey: .OnBuild)
        try k.encode(config.labels, forKey: .Labels)
        if let signal = config.stopSignal { try k.encode(signal, forKey: .StopSignal) }
        if let shell = config.shell { try k.encode(shell, forKey: .Shell) }
        try c.encode(architecture, forKey: .Architecture)
        if let variant { try c.encode(variant, forKey: .Variant) }
        try c.encode(os, forKey: .Os)
        try c.encode(size, forKey: .Size)
        try c.encode(Named(values: [("Name", driver)]), forKey: .GraphDriver)
        var rootfs = c.nestedContainer(keyedBy: Named.Key.self, forKey: .RootFS)
        try rootfs.encode("layers", forKey: Named.Key(stringValue: "Type"))
        try rootfs.encode(layers.map(\.description), forKey: Named.Key(stringValue: "Layers"))
        try c.encode(Named(values: [("LastTagTime", added)]), forKey: .Metadata)
    }

    static func make(store: Store, id: Digest, tags: [String: Digest]) throws -> ImageInspection {
        guard let record = try store.imageRecord(id) else { throw BurrowError.notFound("image \(id) is not in the store") }
        let config = try JSONDecoder().decode(ImageConfiguration.self, from: Data(store.imageConfigBytes(id)))
        let references = store.references(of: id, in: tags)
        var digests: [String] = []
        if let manifest = record.manifestDigest {
            for reference in references { digests.append("\(reference.familiarRepository)@\(manifest)") }
        }
        return ImageInspection(id: id, repoTags: references.map(\.familiar), repoDigests: digests,
                               comment: config.history?.last?.comment ?? "", created: config.created ?? record.added,
                               author: config.author ?? "", config: config.config ?? ContainerConfiguration(),
                               architecture: config.architecture, variant: config.variant, os: config.os, size: record.size,
                               layers: config.rootfs.diffIDs, driver: "overlay",
                               layerDirectories: record.layers.map { store.layout.layerTree($0) }, added: record.added)
    }
}

enum Inspect: Command {
    static let spec = CommandSpec("inspect", arguments: "NAME|ID [NAME|ID...]", summary: "Show the details of images and containers as JSON", options: [
        OptionSpec("type", value: "TYPE", help: "Only look for an image or a container (image, container)"),
        OptionSpec("format", short: "f", value: "FORMAT", help: "json (the default), or a template such as '{{.Id}}'"),
    ], minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let store = try context.store()
        let type = arguments.value("type")
        if let type, type != "image" && type != "container" {
            throw BurrowError.invalidArgument("--type \(type) is unknown: use image or container")
        }
        let tags = try store.tags()
        let template: String? = if case .template(let text) = OutputFormat(arguments.value("format")) { text } else { nil }
        var documents: [JSONValue] = []
        var filled: [String] = []
        var failed = false
        /// nil when nothing by that name exists; an ambiguous prefix is an error.
        func found<T>(_ body: () throws -> T) throws -> T? {
            do {
                return try body()
            } catch let error as BurrowError where error.code == .notFound {
                return nil
            }
        }
        func add(_ document: JSONValue) throws {
            if let template { filled.append(try OutputFormat.fill(template, document)) } else { documents.append(document) }
        }
        for name in arguments.positionals {
            do {
                if type != "container", let id = try found({ try store.resolveImage(name, tags: tags) }) {
                    try add(try JSONOutput.document(try ImageInspection.make(store: store, id: id, tags: tags)))
                    continue
                }
                if type != "image", let id = try found({ try store.resolveContainer(name) }), let record = try store.currentContainer(id) {
                    try add(try JSONOutput.document(ContainerInspection(record: record, config: try? store.containerConfig(id), layout: store.layout)))
                    continue
                }
                throw BurrowError.notFound("no such object: \(name)")
            } catch {
                Context.standardError("burrow: \(error)\n")
                failed = true
            }
        }
        JSONOutput.printInspected(documents, filled: filled, templated: template != nil, failed: failed, context: context)
        return failed ? 125 : 0
    }
}
