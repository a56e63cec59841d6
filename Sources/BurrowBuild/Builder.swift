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
        /// Pulls a base image (FROM) the store lacks, or every one with
        /// `alwaysPull` (`--pull`); nil when there is nowhere to pull from.
        public var pullBase: ((_ name: String) throws -> Void)? = nil
        public var alwaysPull = false
        /// --label: over the Dockerfile's LABELs, on the image only.
        public var labels: [String: String] = [:]

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
        context = try BuildContext(directory: options.context, dockerfile: options.dockerfile)
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

    var built: [Int: State] = [:]
    var stepNumber = 0
    var stepCount = 0
    var dockerfile: Dockerfile? = nil
    /// ARG names the build declared: a --build-arg none of them takes is reported.
    var declared: Set<String> = []
    /// This build's pin (Store+BuildPins): the layers it holds until its image is registered.
    let pinName = Hex.random(bytes: 16)
    var pinned: Set<Digest> = []

    /// Adds layers to the pin before they are used.
    func pin(_ layers: [Digest]) throws {
        let before = pinned.count
        pinned.formUnion(layers)
        if pinned.count != before { try store.pin(pinName, layers: pinned) }
    }

    /// Builds the target stage and returns the new image's id.
    public func build() throws -> Digest {
        for id in BuildContainer.abandoned(store: store) { discard(id) }
        defer { store.unpin(pinName) }
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
        if !options.labels.isEmpty {
            var config = image.config ?? ContainerConfiguration()
            config.labels = (config.labels ?? [:]).merging(options.labels) { $1 }
            image.config = config
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = Array(try encoder.encode(image))
        let registered = try BuildCommit(store: store).registerImage(config: bytes, layers: final.layers, references: options.tags)
        let unused = Set(options.buildArguments.keys).subtracting(declared).subtracting(Builder.proxyArguments).sorted()
        if !unused.isEmpty { say("[Warning] One or more build-args [\(unused.joined(separator: " "))] were not consumed") }
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
                declared.insert(assignment.key)
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
        if case .from(_, _, let platform?) = stage.from.command {
            let wanted = try expand(platform, stage.from) { global[$0] }
            if wanted != Platform.host.description && wanted != "\(Platform.host.os)/\(Platform.host.architecture)" {
                throw fail(stage.from, "FROM --platform=\(wanted): burrow builds for this host's platform (\(Platform.host.description)) only")
            }
        }
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
        if !state.layers.isEmpty || state.key != "scratch" { say(" ---> \(String(state.key.split(separator: ":").last ?? "").prefix(12))") }
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
        if options.alwaysPull, let pull = options.pullBase {
            do { try pull(name) } catch { throw fail(from, "\(error)") }
        }
        do {
            id = try store.resolveImage(name)
        } catch {
            guard let pull = options.pullBase, !options.alwaysPull else {
                throw fail(from, "image \(name) is not in the store: pull it with 'burrow pull \(name)' or load it with 'burrow load -i FILE'")
            }
            do {
                try pull(name)
                id = try store.resolveImage(name)
            } catch {
                throw fail(from, "image \(name) is not in the store and pulling it failed (the reason is above): check the name, or load it with 'burrow load -i FILE'")
            }
        }
        guard let record = try store.imageRecord(id) else { throw fail(from, "image \(name) is not in the store") }
        let image: ImageConfiguration
        do {
            image = try JSONDecoder().decode(ImageConfiguration.self, from: Data(try store.imageConfigBytes(id)))
        } catch {
            throw fail(from, "the configuration of image \(name) cannot be read (\(error)): remove the image and load it again")
        }
        try pin(record.layers)
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
                declared.insert(assignment.key)
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
            // Every value sees the environment as it was before this ENV (Docker:
            // `ENV abc=bye def=$abc` gives def the old abc).
            for assignment in assignments {
                let value = try expand(assignment.value ?? "", instruction, lookup)
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
                    for key in try Builder.exposedPorts(String(word), instruction, fail) { exposed[key] = EmptyObject() }
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

    /// EXPOSE's word as Docker records it: "80/tcp"; a range is every port in it.
    static func exposedPorts(_ word: String, _ instruction: Instruction, _ fail: (Instruction, String) -> BurrowError) throws -> [String] {
        let parts = word.lowercased().split(separator: "/", maxSplits: 1)
        let proto = parts.count > 1 ? String(parts[1]) : "tcp"
        let bounds = parts.first.map { $0.split(separator: "-", maxSplits: 1).map { UInt16($0) } } ?? []
        guard ["tcp", "udp", "sctp"].contains(proto), !bounds.isEmpty, bounds.allSatisfy({ $0 != nil && $0! > 0 }),
              let low = bounds.first!, let high = bounds.last!, low <= high else {
            throw fail(instruction, "EXPOSE \(word) is not a port: write it as 80, 80/udp or 8000-8010/tcp")
        }
        return (low...high).map { "\($0)/\(proto)" }
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

    func stageIndex(_ name: String) -> Int? { dockerfile?.stageIndex(named: name) }

    /// Several sources go into a directory: the destination must say so.
    func multiple(_ sources: [String], _ destination: String) -> String {
        sources.count > 1 && !destination.hasSuffix("/") ? destination + "/" : destination
    }
}
