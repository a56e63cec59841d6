import BurrowDockerfile
import BurrowOCI
import BurrowSandbox
import BurrowStorage
import BurrowStore
import BurrowSystem
import BurrowTransport
import FoundationEssentials
import Glibc

/// `burrow build`: runs a parsed Dockerfile's stages against the store.
/// Each step that changes files works in a build container (BuildContainer)
/// and leaves a layer; the others change the image configuration only.
/// Every step's result is cached under a key made of its parent's key, the
/// instruction as expanded, the ARG values in scope and, for COPY and ADD,
/// the content they copy; the image is registered only when every step of
/// the target stage has succeeded.
public final class Builder {
    public struct Options {
        public var context: String
        /// The Dockerfile's path, and its name for messages ("Dockerfile").
        public var dockerfile: String
        public var dockerfileName: String
        public var tags: [ImageReference] = []
        public var buildArguments: [String: String] = [:]
        public var target: String? = nil
        public var noCache = false
        public var quiet = false
        public var network: RunOptions.Network = .slirp
        public var hostCA: String? = nil

        public init(context: String, dockerfile: String, dockerfileName: String) {
            self.context = context
            self.dockerfile = dockerfile
            self.dockerfileName = dockerfileName
        }
    }

    /// Runs `__build apply` with a request inside the user namespace; returns its exit code.
    public typealias Helper = (_ requestPath: String) throws -> Int32

    let store: Store
    let identity: Identity
    let options: Options
    let helper: Helper
    let say: (String) -> Void
    let context: BuildContext
    let cache: BuildCache

    public init(store: Store, identity: Identity, options: Options, helper: @escaping Helper, say: @escaping (String) -> Void) throws {
        self.store = store
        self.identity = identity
        self.options = options
        self.helper = helper
        self.say = options.quiet ? { _ in } : say
        context = try BuildContext(directory: options.context)
        cache = BuildCache(directory: "\(store.layout.root)/build-cache")
    }

    /// The state of a stage after each step.
    struct State {
        var layers: [Digest]
        var image: ImageConfiguration
        var key: String
        var baseID: Digest
        var arguments: [String: String] = [:]
        var shell = ["/bin/sh", "-c"]
        var cmdSetHere = false

        var config: ContainerConfiguration {
            get { image.config ?? ContainerConfiguration() }
            set { image.config = newValue }
        }
        var environment: [String] { config.env ?? [] }

        func lookup(_ name: String) -> String? {
            for entry in environment.reversed() where entry.hasPrefix(name + "=") { return String(entry.dropFirst(name.count + 1)) }
            return arguments[name]
        }
    }

    private var built: [Int: State] = [:]
    private var stepNumber = 0
    private var stepCount = 0

    /// Builds the target stage and returns the new image's id.
    public func build() throws -> Digest {
        for id in BuildContainer.abandoned(store: store) { discard(id) }
        let text: String
        do {
            text = try FileSystem.readText(options.dockerfile)
        } catch {
            throw BurrowError.notFound("cannot read the Dockerfile \(options.dockerfile): give one with -f FILE, or put a Dockerfile in the context")
        }
        let dockerfile: Dockerfile
        do {
            dockerfile = try DockerfileParser.parse(text, file: options.dockerfileName)
        } catch {
            throw BurrowError.invalidArgument("\(error)")
        }
        self.dockerfile = dockerfile
        guard !dockerfile.stages.isEmpty else { throw BurrowError.invalidArgument("\(options.dockerfileName): no FROM instruction: a Dockerfile starts with FROM IMAGE") }
        let global = try globalArguments(dockerfile)
        let target: Int
        if let name = options.target {
            guard let index = dockerfile.stageIndex(named: name) else {
                throw BurrowError.notFound("\(options.dockerfileName): no stage named \(name) for --target: name one of \(dockerfile.stages.compactMap(\.name).joined(separator: ", "))")
            }
            target = index
        } else {
            target = dockerfile.stages.count - 1
        }
        let needed = try neededStages(dockerfile, target: target, global: global)
        stepCount = needed.reduce(0) { $0 + 1 + dockerfile.stages[$1].instructions.count }
        for index in needed.sorted() {
            built[index] = try buildStage(dockerfile.stages[index], in: dockerfile, global: global)
        }
        guard let final = built[target] else { throw BurrowError.engine("the target stage was not built") }
        var image = final.image
        image.rootfs = .init(diffIDs: final.layers)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = Array(try encoder.encode(image))
        let registered = try BuildCommit(store: store).registerImage(config: bytes, layers: final.layers, references: options.tags)
        say("Successfully built \(registered.id.encoded.prefix(12))")
        for tag in options.tags { say("Successfully tagged \(tag.familiar)") }
        return registered.id
    }

    /// The ARGs before the first FROM, with --build-arg over their defaults.
    /// BuildKit's automatic platform ARGs: in the global scope without a
    /// declaration, in a stage once it says `ARG TARGETARCH`.
    static var platformArguments: [String: String] {
        let platform = Platform.host
        var values: [String: String] = [:]
        for prefix in ["TARGET", "BUILD"] {
            values[prefix + "PLATFORM"] = platform.description
            values[prefix + "OS"] = platform.os
            values[prefix + "ARCH"] = platform.architecture
            values[prefix + "VARIANT"] = platform.variant ?? ""
        }
        return values
    }

    /// --build-arg values RUN gets without an ARG, as in Docker; they stay
    /// out of the image and the cache key.
    static let proxyArguments = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                                 "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"]

    func globalArguments(_ dockerfile: Dockerfile) throws -> [String: String] {
        var values = Builder.platformArguments
        for instruction in dockerfile.globalArguments {
            guard case .arg(let assignments) = instruction.command else { continue }
            for assignment in assignments {
                if let given = options.buildArguments[assignment.key] {
                    values[assignment.key] = given
                } else if let value = assignment.value {
                    values[assignment.key] = try expand(value, instruction) { values[$0] }
                }
            }
        }
        return values
    }

    /// The target and every stage it reads from (FROM, COPY --from), by index.
    func neededStages(_ dockerfile: Dockerfile, target: Int, global: [String: String]) throws -> Set<Int> {
        var needed: Set<Int> = []
        var pending = [target]
        while let index = pending.popLast() {
            guard needed.insert(index).inserted else { continue }
            let stage = dockerfile.stages[index]
            let base = try expand(stage.base, stage.from) { global[$0] }
            if let other = dockerfile.stageIndex(named: base), other < index, Int(base) == nil { pending.append(other) }
            for instruction in stage.instructions {
                switch instruction.command {
                case .copy(let copy), .add(let copy):
                    if let from = copy.from, let other = dockerfile.stageIndex(named: from), other < index { pending.append(other) }
                default: break
                }
            }
        }
        return needed
    }

    func fail(_ instruction: Instruction, _ message: String) -> BurrowError {
        BurrowError.invalidArgument(DockerfileError(line: instruction.line, message, file: options.dockerfileName).description)
    }

    func expand(_ text: String, _ instruction: Instruction, _ lookup: @escaping (String) -> String?) throws -> String {
        do {
            return try WordExpansion(lookup: lookup).word(text)
        } catch {
            throw fail(instruction, "\(error)")
        }
    }

    func announce(_ instruction: Instruction) {
        stepNumber += 1
        say("Step \(stepNumber)/\(stepCount) : \(instruction.text)")
    }

    // MARK: stages

    func buildStage(_ stage: Stage, in dockerfile: Dockerfile, global: [String: String]) throws -> State {
        announce(stage.from)
        let baseName = try expand(stage.base, stage.from) { global[$0] }
        var state: State
        if let index = dockerfile.stageIndex(named: baseName), index < stage.index, Int(baseName) == nil, let earlier = built[index] {
            state = earlier
            state.arguments = [:]
            state.cmdSetHere = false
        } else if baseName.lowercased() == "scratch" {
            let platform = Platform.host
            let image = ImageConfiguration(architecture: platform.architecture, os: platform.os, variant: platform.variant,
                                           config: ContainerConfiguration(), rootfs: .init(diffIDs: []), history: [])
            state = State(layers: [], image: image, key: "scratch", baseID: Digest("sha256:" + String(repeating: "0", count: 64))!)
        } else {
            state = try baseImage(baseName, stage.from)
        }
        if let shell = state.config.shell, !shell.isEmpty { state.shell = shell }
        if state.environment.isEmpty && !state.layers.isEmpty {
            state.config.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        }
        // ONBUILD triggers of the base run first, then leave the image.
        if let triggers = state.config.onBuild, !triggers.isEmpty {
            state.config.onBuild = nil
            stepCount += triggers.count
            for trigger in triggers {
                let parsed: Dockerfile
                do {
                    parsed = try DockerfileParser.parse("FROM scratch\n" + trigger, file: options.dockerfileName)
                } catch {
                    throw fail(stage.from, "the base image's ONBUILD \(trigger) is not valid: \(error.message)")
                }
                for var instruction in parsed.stages.first?.instructions ?? [] {
                    instruction.line = stage.from.line
                    state = try step(instruction, state, global: global, dockerfile: dockerfile)
                }
            }
        }
        for instruction in stage.instructions {
            state = try step(instruction, state, global: global, dockerfile: dockerfile)
        }
        return state
    }

    func baseImage(_ name: String, _ from: Instruction) throws -> State {
        let id: Digest
        do {
            id = try store.resolveImage(name)
        } catch {
            throw fail(from, "image \(name) is not in the store: load it first with 'burrow load -i FILE' (or 'burrow import')")
        }
        guard let record = try store.imageRecord(id) else { throw fail(from, "image \(name) is not in the store") }
        let image: ImageConfiguration
        do {
            image = try JSONDecoder().decode(ImageConfiguration.self, from: Data(try store.imageConfigBytes(id)))
        } catch {
            throw fail(from, "the configuration of image \(name) cannot be read (\(error)): remove the image and load it again")
        }
        var state = State(layers: record.layers, image: image, key: id.description, baseID: id)
        state.image.history = image.history ?? []
        return state
    }

    // MARK: steps

    func step(_ instruction: Instruction, _ before: State, global: [String: String], dockerfile: Dockerfile) throws -> State {
        announce(instruction)
        var state = before
        let lookup: (String) -> String? = { [state] in state.lookup($0) }
        var history = instruction.text
        var metadataOnly = true
        switch instruction.command {
        case .from:
            throw fail(instruction, "FROM inside a stage")
        case .arg(let assignments):
            for assignment in assignments {
                if let given = options.buildArguments[assignment.key] {
                    state.arguments[assignment.key] = given
                } else if let value = assignment.value {
                    state.arguments[assignment.key] = try expand(value, instruction, lookup)
                } else if let value = global[assignment.key] {
                    state.arguments[assignment.key] = value
                }
            }
        case .env(let assignments):
            var environment = state.environment
            for assignment in assignments {
                let value = try expand(assignment.value ?? "", instruction) { name in
                    for entry in environment.reversed() where entry.hasPrefix(name + "=") { return String(entry.dropFirst(name.count + 1)) }
                    return state.arguments[name]
                }
                environment.removeAll { $0.hasPrefix(assignment.key + "=") }
                environment.append("\(assignment.key)=\(value)")
            }
            state.config.env = environment
        case .label(let assignments):
            var labels = state.config.labels ?? [:]
            for assignment in assignments {
                labels[try expand(assignment.key, instruction, lookup)] = try expand(assignment.value ?? "", instruction, lookup)
            }
            state.config.labels = labels
        case .expose(let ports):
            var exposed = state.config.exposedPorts ?? [:]
            for port in ports {
                for word in try expand(port, instruction, lookup).split(separator: " ") {
                    exposed[word.contains("/") ? String(word).lowercased() : "\(word)/tcp"] = EmptyObject()
                }
            }
            state.config.exposedPorts = exposed
        case .volume(let paths):
            var volumes = state.config.volumes ?? [:]
            for path in paths { volumes[try expand(path, instruction, lookup)] = EmptyObject() }
            state.config.volumes = volumes
        case .user(let user):
            state.config.user = try expand(user, instruction, lookup)
        case .stopSignal(let signal):
            state.config.stopSignal = try expand(signal, instruction, lookup)
        case .maintainer(let name):
            state.image.author = name
        case .onBuild(let trigger):
            state.config.onBuild = (state.config.onBuild ?? []) + [trigger]
        case .shell(let shell):
            state.shell = shell
            state.config.shell = shell
        case .cmd(let line):
            state.config.cmd = commandLine(line, state)
            state.cmdSetHere = true
        case .entrypoint(let line):
            state.config.entrypoint = commandLine(line, state)
            if !state.cmdSetHere { state.config.cmd = nil }
        case .healthCheck(let check):
            state.config.healthcheck = try health(check, state, instruction)
        case .workdir(let path):
            let expanded = try expand(path, instruction, lookup)
            let absolute = expanded.hasPrefix("/") ? expanded : (state.config.workingDir ?? "/") + "/" + expanded
            let cleaned = "/" + BuildContext.clean(absolute)
            state.config.workingDir = cleaned
            let owner = try owner(state.config.user ?? "", state, instruction)
            let key = stepKey(state, "WORKDIR \(cleaned) \(owner.uid):\(owner.gid)")
            state = try fileStep(state, key: key, instruction: instruction) {
                [FileOperation(kind: .makeDirectory, destination: cleaned, uid: owner.uid, gid: owner.gid)]
            }
            metadataOnly = false
        case .run(let line, let heredocs, let network):
            state = try run(line, heredocs: heredocs, network: network, state, instruction)
            history = "RUN " + instruction.text.dropFirst(4)
            metadataOnly = false
        case .copy(let copy):
            state = try copyStep(copy, isAdd: false, state, instruction)
            metadataOnly = false
        case .add(let copy):
            state = try copyStep(copy, isAdd: true, state, instruction)
            metadataOnly = false
        }
        if metadataOnly {
            state.key = stepKey(state, instruction.text + "\n" + configurationKey(state))
            say(" ---> \(String(state.key.dropFirst(7).prefix(12)))")
        }
        let layerAdded = state.layers.count > before.layers.count
        state.image.history = (state.image.history ?? []) + [ImageConfiguration.History(
            created: state.image.created, createdBy: history, comment: "burrow build", emptyLayer: layerAdded ? nil : true)]
        return state
    }

    func commandLine(_ line: CommandLine, _ state: State) -> [String] {
        switch line {
        case .exec(let arguments): return arguments
        case .shell(let text): return state.shell + [text]
        }
    }

    func health(_ check: HealthCheck, _ state: State, _ instruction: Instruction) throws -> HealthConfig {
        guard let test = check.test else { return HealthConfig(test: ["NONE"]) }
        var config: HealthConfig
        switch test {
        case .exec(let arguments): config = HealthConfig(test: ["CMD"] + arguments)
        case .shell(let text): config = HealthConfig(test: ["CMD-SHELL", text])
        }
        func duration(_ text: String?, _ flag: String) throws -> Int64? {
            guard let text else { return nil }
            guard let nanoseconds = Builder.duration(text) else { throw fail(instruction, "HEALTHCHECK --\(flag)=\(text) is not a duration: write it as 30s, 1m30s or 500ms") }
            return nanoseconds
        }
        config.interval = try duration(check.interval, "interval")
        config.timeout = try duration(check.timeout, "timeout")
        config.startPeriod = try duration(check.startPeriod, "start-period")
        config.startInterval = try duration(check.startInterval, "start-interval")
        if let retries = check.retries {
            guard let count = Int(retries), count >= 0 else { throw fail(instruction, "HEALTHCHECK --retries=\(retries) is not a number") }
            config.retries = count
        }
        return config
    }

    /// Go's durations: 1h2m3.5s, 500ms, 10us, 7ns.
    static func duration(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 6e10), ("h", 3.6e12)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.filter({ rest.hasPrefix($0.0) }).max(by: { $0.0.count < $1.0.count }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return Int64(total)
    }

    // MARK: keys

    func stepKey(_ state: State, _ text: String) -> String {
        SHA256Hasher.digest(Array("\(state.key)\n\(text)".utf8))
    }

    /// What of the configuration a later RUN sees: in every key, so two
    /// steps alike in text but not in ENV, USER or ARG values differ.
    func configurationKey(_ state: State) -> String {
        let config = state.config
        return [state.environment.joined(separator: "\u{0}"), config.user ?? "", config.workingDir ?? "", state.shell.joined(separator: "\u{0}"),
                state.arguments.keys.sorted().map { "\($0)=\(state.arguments[$0]!)" }.joined(separator: "\u{0}")].joined(separator: "\n")
    }

    func owner(_ spec: String, _ state: State, _ instruction: Instruction) throws -> (uid: UInt32, gid: UInt32) {
        if spec.isEmpty { return (0, 0) }
        do {
            return try BuildContainer.resolveUser(spec, store: store, identity: identity, layers: state.layers)
        } catch {
            throw fail(instruction, "\(error)")
        }
    }

    // MARK: RUN

    func run(_ line: CommandLine, heredocs: [Heredoc], network: String?, _ before: State, _ instruction: Instruction) throws -> State {
        let state = before
        var arguments: [String]
        switch line {
        case .exec(let list):
            arguments = list
        case .shell(let text):
            let trimmed = String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            if heredocs.count == 1, trimmed.hasPrefix("<<"), !trimmed.contains(" ") {
                // RUN <<EOF alone: the body is the script.
                arguments = state.shell + [heredocs[0].body]
            } else {
                var script = text
                for heredoc in heredocs { script += "\n" + heredoc.body + (heredoc.body.hasSuffix("\n") ? "" : "\n") + heredoc.name }
                arguments = state.shell + [script]
            }
        }
        var stepNetwork = options.network
        if let network {
            guard let chosen = RunOptions.Network(rawValue: network == "default" ? options.network.rawValue : network) else {
                throw fail(instruction, "RUN --network=\(network) is unknown: use default, none or host")
            }
            stepNetwork = chosen
        }
        // ARG values reach RUN's environment, under ENV of the same name.
        var environment = state.environment
        for (name, value) in state.arguments.sorted(by: { $0.key < $1.key }) where !environment.contains(where: { $0.hasPrefix(name + "=") }) {
            environment.append("\(name)=\(value)")
        }
        let key = stepKey(state, "RUN \(arguments.joined(separator: "\u{0}"))\n\(stepNetwork.rawValue)\n" + configurationKey(state))
        for name in Builder.proxyArguments {
            if let value = options.buildArguments[name], !environment.contains(where: { $0.hasPrefix(name + "=") }) { environment.append("\(name)=\(value)") }
        }
        if let hit = cached(key, state) { return hit }
        let container = try BuildContainer.create(store: store, identity: identity, layers: state.layers)
        say(" ---> Running in \(container.id.prefix(12))")
        var committed = false
        defer { if !committed { discard(container) } }
        let process = BuildContainer.Process(arguments: arguments, environment: environment, workingDirectory: state.config.workingDir ?? "/",
                                             user: state.config.user ?? "", network: stepNetwork, hostCA: options.hostCA,
                                             output: options.quiet ? try quietOutput() : nil)
        defer { if let fd = process.output { close(fd) } }
        let code: Int32
        do {
            code = try container.run(process, imageID: state.baseID)
        } catch {
            throw fail(instruction, "RUN could not start: \(error)")
        }
        if code != 0 {
            // Without subordinate ids, setgroups is denied and only root
            // exists: apt-get and other programs that change users fail.
            let single = (try? identity.mapping(.rootless).needsHelpers) == false
            throw fail(instruction, "RUN returned exit code \(code)" + (single
                ? " (you have no subordinate ids, so the build maps only root and denies setgroups: programs that switch users or groups, such as apt-get, fail; ask an administrator for a range in /etc/subuid and /etc/subgid)"
                : ""))
        }
        committed = true
        let request = FileStepRequest(containerID: container.id, layers: state.layers, resultPath: "", operations: [],
                                      mountStubs: BuildContainer.mountStubs)
        return try commit(request, state, key: key, instruction: instruction)
    }

    func quietOutput() throws -> Int32 {
        let fd = try syscall("open", "/dev/null") { open("/dev/null", O_WRONLY | O_CLOEXEC) }
        defer { close(fd) }
        // The launch takes descriptors 3 and above.
        return try syscall("dup", "/dev/null") { fcntl(fd, F_DUPFD_CLOEXEC, 3) }
    }

    /// A build container that will not be committed: its files go from inside the user namespace.
    func discard(_ container: BuildContainer) { discard(container.id) }

    func discard(_ id: String, sources: [String: [Digest]] = [:]) {
        let directories = [id] + sources.keys
        let removed = directories.allSatisfy { ContainerFilesystem(layout: store.layout, id: $0, driver: .overlay).remove() }
        if removed { return }
        let request = FileStepRequest(containerID: id, layers: [], resultPath: "/dev/null", operations: [], mountStubs: [], sourceContainers: sources)
        _ = try? runHelper(request, removeOnly: true)
    }

    // MARK: file steps

    /// The state after a step found in the cache, or nil.
    func cached(_ key: String, _ state: State) -> State? {
        guard !options.noCache, let entry = cache.lookup(key), entry.layers.allSatisfy(store.layerExists) else { return nil }
        guard Array(entry.layers.prefix(state.layers.count)) == state.layers else { return nil }
        say(" ---> Using cache")
        say(" ---> \(String(key.dropFirst(7).prefix(12)))")
        var result = state
        result.layers = entry.layers
        result.key = key
        result.image.created = entry.created
        return result
    }

    func fileStep(_ before: State, key: String, instruction: Instruction, sources: [String: [Digest]] = [:], _ operations: () throws -> [FileOperation]) throws -> State {
        let state = before
        if let hit = cached(key, state) { return hit }
        let container = try BuildContainer.create(store: store, identity: identity, layers: state.layers)
        var request = FileStepRequest(containerID: container.id, layers: state.layers, resultPath: "", operations: [], mountStubs: [])
        do {
            request.operations = try operations()
            for (id, layers) in sources {
                try ContainerFilesystemAccess.create(store: store, id: id, layers: layers)
                request.sourceContainers[id] = layers
            }
        } catch {
            discard(container)
            throw error
        }
        return try commit(request, state, key: key, instruction: instruction)
    }

    /// Runs the helper on a step container; the new layer, if any, goes on the state.
    func commit(_ base: FileStepRequest, _ before: State, key: String, instruction: Instruction) throws -> State {
        var state = before
        let diffID: Digest?
        do {
            diffID = try runHelper(base, removeOnly: false, instruction: instruction)
        } catch {
            // The helper removes the step's directories itself; not when it never ran.
            discard(base.containerID, sources: base.sourceContainers)
            throw error
        }
        if let diffID { state.layers.append(diffID) }
        state.key = key
        state.image.created = Timestamp.now()
        cache.store(key, BuildCache.Entry(layers: state.layers, created: state.image.created ?? ""))
        say(" ---> \(String(key.dropFirst(7).prefix(12)))")
        return state
    }

    func runHelper(_ base: FileStepRequest, removeOnly: Bool, instruction: Instruction? = nil) throws -> Digest? {
        let staging = try store.makeStaging("build-request")
        defer { staging.discard() }
        var request = base
        request.resultPath = removeOnly ? "/dev/null" : "\(staging.path)/result"
        if removeOnly { request.mountStubs = [] }
        let encoder = JSONEncoder()
        let path = "\(staging.path)/request.json"
        try FileSystem.writeFile(path, Array(try encoder.encode(request)))
        let code = try helper(path)
        if removeOnly { return nil }
        guard code == 0, let text = try? FileSystem.readText(request.resultPath) else {
            let what = instruction.map { fail($0, "\($0.keyword) failed (see the message above)") } ?? BurrowError.engine("a build step failed")
            throw what
        }
        return text.isEmpty ? nil : Digest(text)
    }

    // MARK: COPY and ADD

    func copyStep(_ copy: CopyCommand, isAdd: Bool, _ state: State, _ instruction: Instruction) throws -> State {
        let lookup: (String) -> String? = { state.lookup($0) }
        var destination = try expand(copy.destination, instruction, lookup)
        if !destination.hasPrefix("/") {
            let workdir = state.config.workingDir ?? "/"
            destination = (workdir.hasSuffix("/") ? workdir : workdir + "/") + destination
        }
        if destination.hasSuffix("/.") || destination == "." { destination = String(destination.dropLast()) }
        let sources = try copy.sources.map { try expand($0, instruction, lookup) }
        let owner = try owner(try copy.chown.map { try expand($0, instruction, lookup) } ?? "", state, instruction)
        var mode: UInt32? = nil
        if let text = copy.chmod {
            guard let value = UInt32(text, radix: 8), value <= 0o7777 else {
                throw fail(instruction, "--chmod=\(text) is not an octal mode: write it as 755 or 0644")
            }
            mode = value
        }
        let keyword = instruction.keyword
        let flags = "chown=\(copy.chown.map { _ in "\(owner.uid):\(owner.gid)" } ?? "") chmod=\(copy.chmod ?? "")"
        if let from = copy.from {
            let fromName = try expand(from, instruction, lookup)
            let layers: [Digest]
            let sourceKey: String
            if let index = stageIndex(fromName), let other = built[index] {
                layers = other.layers
                sourceKey = other.key
            } else {
                let base = try baseImage(fromName, instruction)
                layers = base.layers
                sourceKey = base.key
            }
            let key = stepKey(state, "\(keyword) --from=\(sourceKey) \(flags) \(sources.joined(separator: "\u{0}")) -> \(destination)")
            let sourceID = Hex.random(bytes: 32)
            let paths = sources.map { BuildContext.clean($0) }
            return try fileStep(state, key: key, instruction: instruction, sources: [sourceID: layers]) {
                [FileOperation(kind: .copy, sources: paths, sourceContainer: sourceID, destination: multiple(paths, destination),
                               uid: owner.uid, gid: owner.gid, mode: mode)]
            }
        }
        if !copy.heredocs.isEmpty {
            return try heredocStep(copy, destination: destination, owner: owner, mode: mode, flags: flags, state, instruction)
        }
        var resolved: [String] = []
        for source in sources {
            if source.hasPrefix("http://") || source.hasPrefix("https://") || source.hasPrefix("git@") {
                throw fail(instruction, "\(keyword) from a URL (\(source)) is not supported: download it in a RUN step")
            }
            let found = try context.resolve(source)
            if found.isEmpty {
                throw fail(instruction, "\(keyword) failed: \(source) is not in the build context (or .dockerignore leaves it out)")
            }
            resolved += found
        }
        let globbed = sources.contains { PathPattern(BuildContext.clean($0)).hasWildcards }
        let target = (globbed || resolved.count > 1) && !destination.hasSuffix("/") ? destination + "/" : destination
        let content = try context.hash(resolved)
        let key = stepKey(state, "\(keyword) \(flags) \(resolved.joined(separator: "\u{0}")) -> \(target) \(content)")
        let archives = isAdd ? resolved.filter(context.isArchive) : []
        return try fileStep(state, key: key, instruction: instruction) {
            var operations: [FileOperation] = []
            let plain = resolved.filter { !archives.contains($0) }
            if !plain.isEmpty {
                operations.append(FileOperation(kind: .copy, sources: plain, sourceRoot: context.directory, destination: target,
                                                uid: owner.uid, gid: owner.gid, mode: mode, ignore: context.ignoreText))
            }
            if !archives.isEmpty {
                operations.append(FileOperation(kind: .extractArchive, sources: archives, sourceRoot: context.directory,
                                                destination: target.hasSuffix("/") ? target : target + "/",
                                                uid: copy.chown == nil ? nil : owner.uid, gid: copy.chown == nil ? nil : owner.gid))
            }
            return operations
        }
    }

    /// COPY <<NAME: each heredoc's body becomes a file of that name.
    func heredocStep(_ copy: CopyCommand, destination: String, owner: (uid: UInt32, gid: UInt32), mode: UInt32?, flags: String,
                     _ state: State, _ instruction: Instruction) throws -> State {
        guard copy.sources.allSatisfy({ $0.hasPrefix("<<") }) else {
            throw fail(instruction, "\(instruction.keyword) mixes heredocs with other sources: give them in two instructions")
        }
        let staging = try store.makeStaging("build-heredoc")
        defer { staging.discard() }
        let hasher = SHA256Hasher()
        var names: [String] = []
        for heredoc in copy.heredocs {
            try FileSystem.makeDirectories(staging.path, mode: 0o755)
            try FileSystem.writeFile("\(staging.path)/\(heredoc.name)", Array(heredoc.body.utf8), mode: 0o644)
            hasher.update(Array("\(heredoc.name)\u{0}\(heredoc.body)\u{0}".utf8))
            names.append(heredoc.name)
        }
        let target = names.count > 1 && !destination.hasSuffix("/") ? destination + "/" : destination
        let key = stepKey(state, "\(instruction.keyword) \(flags) heredocs -> \(target) \(hasher.finish())")
        return try fileStep(state, key: key, instruction: instruction) {
            [FileOperation(kind: .copy, sources: names, sourceRoot: staging.path, destination: target, uid: owner.uid, gid: owner.gid, mode: mode)]
        }
    }

    private var dockerfile: Dockerfile? = nil

    func stageIndex(_ name: String) -> Int? { dockerfile?.stageIndex(named: name) }

    /// Several sources go into a directory: the destination must say so.
    func multiple(_ sources: [String], _ destination: String) -> String {
        sources.count > 1 && !destination.hasSuffix("/") ? destination + "/" : destination
    }
}

/// Creates the directories of a build container that is only read (COPY --from).
enum ContainerFilesystemAccess {
    static func create(store: Store, id: String, layers: [Digest]) throws {
        let filesystem = BurrowStorage.ContainerFilesystem(layout: store.layout, id: id, driver: .overlay)
        try filesystem.create(layers: layers)
        try BuildContainer.markOwned(filesystem.directory)
    }
}
