import BurrowArchive
import BurrowDockerfile
import BurrowOCI
import BurrowSandbox
import BurrowStorage
import BurrowStore
import BurrowSystem
import FoundationEssentials
import Glibc

/// RUN: the command in a build container, its changes committed as a layer.
extension Builder {
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
        // The host's CA bundle is a read-only layer on top of the image's, not
        // a bind: update-ca-certificates (apt-get install ca-certificates)
        // may replace the bundle, and what it writes is the image's own.
        let ca = try hostCALayer(over: state.layers)
        let caLayer = ca?.layer
        if let ca { environment = HostCA.withCertificateFile(environment, path: ca.path) }
        let container = try BuildContainer.create(store: store, identity: identity, layers: state.layers + (caLayer.map { [$0] } ?? []))
        say(" ---> Running in \(container.id.prefix(12))")
        var committed = false
        defer { if !committed { discard(container) } }
        let process = BuildContainer.Process(arguments: arguments, environment: environment, workingDirectory: state.config.workingDir ?? "/",
                                             user: state.config.user ?? "", network: stepNetwork, hostCA: nil,
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
        var request = FileStepRequest(containerID: container.id, layers: state.layers, resultPath: "", operations: [],
                                      mountStubs: BuildContainer.mountStubs)
        request.hostCABundle = caLayer == nil ? nil : options.hostCA
        return try commit(request, state, key: key, instruction: instruction)
    }

    /// The layer that shows the host's CA bundle at those of HostCA.targets
    /// whose directory the image has, as a real directory: a directory the
    /// layer added, or one it put over an image's symlink (Fedora links
    /// /etc/ssl/certs to /etc/pki/tls/certs), would change what the step
    /// sees and writes. Its directories take the image's modes. Made once
    /// per bundle and shape, never part of an image.
    func hostCALayer(over layers: [Digest]) throws -> (layer: Digest, path: String)? {
        guard let bundle = options.hostCA else { return nil }
        var modes: [String: mode_t] = [:]
        let targets = HostCA.targets.filter { target in
            guard let found = Builder.directories(above: target, in: layers, store: store) else { return false }
            modes.merge(found) { $1 }
            return true
        }
        if targets.isEmpty { return nil }
        let shape = targets.joined(separator: "\n") + "\n" + modes.keys.sorted().map { "\($0) \(String(modes[$0]!, radix: 8))" }.joined(separator: "\n")
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(bundle)
        } catch {
            throw BurrowError.notFound("cannot read the CA bundle \(bundle) (\(error)): give a readable one with --host-ca-file, or build with --host-ca=false")
        }
        guard let diffID = Digest(SHA256Hasher.digest(Array("burrow host CA layer\n\(shape)\n".utf8) + bytes)) else { return nil }
        try pin([diffID])
        if store.layerExists(diffID) { return (diffID, targets[0]) }
        let staging = try store.makeStaging("host-ca")
        defer { staging.discard() }
        let root = "\(staging.path)/\(LayerView.standard)"
        try FileSystem.makeDirectory(root, mode: 0o755)
        for target in targets {
            var path = root
            var inside = ""
            for component in target.split(separator: "/").dropLast() {
                path += "/\(component)"
                inside += "/\(component)"
                if !FileSystem.exists(path) {
                    try FileSystem.makeDirectory(path, mode: 0o755)
                    chmod(path, modes[inside] ?? 0o755)
                }
            }
            try FileSystem.writeFile(root + target, bytes, mode: 0o644)
        }
        let record = LayerRecord(diffID: diffID, size: Int64(bytes.count * targets.count), entries: 3 * targets.count,
                                 whiteouts: WhiteoutFormat.overlay.rawValue, created: Timestamp.now())
        try JSONFiles.write(record, to: "\(staging.path)/layer.json", durable: false)
        let lock = try store.lock(.exclusive)
        defer { _ = lock }
        if !store.layerExists(diffID) { _ = try store.commitLayer(from: staging.path, diffID: diffID) }
        return (diffID, targets[0])
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

    /// The modes of the directories on the way to `target` as the image
    /// has them (by the topmost layer holding each); nil when one is
    /// missing, is not a directory, or is not root's.
    static func directories(above target: String, in layers: [Digest], store: Store) -> [String: mode_t]? {
        var prefix = ""
        var modes: [String: mode_t] = [:]
        for component in target.split(separator: "/").dropLast() {
            prefix += "/\(component)"
            var found: stat? = nil
            for layer in layers.reversed() {
                var st = stat()
                if lstat(store.layout.layerTree(layer) + prefix, &st) == 0 {
                    found = st
                    break
                }
            }
            // Root's inside is the user's own uid outside.
            guard let st = found, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == getuid() else { return nil }
            modes[prefix] = st.st_mode & 0o7777
        }
        return modes
    }
}
