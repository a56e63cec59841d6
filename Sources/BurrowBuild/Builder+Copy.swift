import BurrowDockerfile
import BurrowOCI
import BurrowSandbox
import BurrowStorage
import BurrowStore
import BurrowSystem
import FoundationEssentials
import Glibc

/// COPY and ADD: from the context (with .dockerignore), another stage or image, or heredocs.
extension Builder {
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
            // As BuildKit: an unquoted terminator expands ARG and ENV values in the body.
            let body: String
            do {
                body = heredoc.quoted ? heredoc.body : try WordExpansion(lookup: { state.lookup($0) }).text(heredoc.body)
            } catch {
                throw fail(instruction, "\(error)")
            }
            try FileSystem.writeFile("\(staging.path)/\(heredoc.name)", Array(body.utf8), mode: 0o644)
            hasher.update(Array("\(heredoc.name)\u{0}\(body)\u{0}".utf8))
            names.append(heredoc.name)
        }
        let target = names.count > 1 && !destination.hasSuffix("/") ? destination + "/" : destination
        let key = stepKey(state, "\(instruction.keyword) \(flags) heredocs -> \(target) \(hasher.finish())")
        return try fileStep(state, key: key, instruction: instruction) {
            [FileOperation(kind: .copy, sources: names, sourceRoot: staging.path, destination: target, uid: owner.uid, gid: owner.gid, mode: mode)]
        }
    }
}
