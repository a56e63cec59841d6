import BurrowDockerfile
import BurrowOCI
import BurrowSandbox
import BurrowStorage
import BurrowStore
import BurrowSystem
import FoundationEssentials
import Glibc

/// Steps that leave a layer: the cache, the build container, the `__build apply` helper.
extension Builder {
    // MARK: file steps

    /// The state after a step found in the cache, or nil.
    func cached(_ key: String, _ state: State) -> State? {
        guard !options.noCache, let entry = cache.lookup(key) else { return nil }
        // Pinned before they are checked: a layer still there now stays.
        try? pin(entry.layers)
        guard entry.layers.allSatisfy(store.layerExists) else { return nil }
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
                let filesystem = ContainerFilesystem(layout: store.layout, id: id, driver: .overlay)
                try filesystem.create(layers: layers)
                try BuildContainer.markOwned(filesystem.directory)
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
        if let diffID {
            try pin([diffID])
            state.layers.append(diffID)
        }
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
        if removeOnly {
            request.mountStubs = []
            request.operations = []
            request.removeOnly = true
        }
        let encoder = JSONEncoder()
        let path = "\(staging.path)/request.json"
        try FileSystem.writeFile(path, Array(try encoder.encode(request)))
        let code = try helper(path)
        if removeOnly { return nil }
        guard code == 0, let text = try? FileSystem.readText(request.resultPath) else {
            let what = instruction.map { fail($0, "\($0.keyword) failed (see the message above)") } ?? BurrowError.engine("a build step failed")
            throw what
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for warning in lines.dropFirst() { say("[Warning] \(instruction.map { "\(options.dockerfileName):\($0.line): " } ?? "")\(warning)") }
        let first = lines.first.map(String.init) ?? ""
        return first.isEmpty ? nil : Digest(first)
    }
}
