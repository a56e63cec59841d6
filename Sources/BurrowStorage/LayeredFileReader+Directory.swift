import BurrowArchive
import BurrowSystem
import CBurrowSys
import Glibc

/// Directories of an image as the merged view shows them, read from the
/// layer directories: what fills a new volume mounted over one ("copy-up").
extension LayeredFileReader {
    enum Presence: Equatable {
        case absent, directory, other
        case symlink(String)
    }

    /// What one layer holds at `components`, and whether that hides the same
    /// path in the layers below: a whiteout on the way, an opaque directory,
    /// or anything but a directory in the way.
    func presence(in layer: Layer, _ components: [String]) -> (presence: Presence, hidesBelow: Bool) {
        var directory = layer.tree
        var hides = false
        for (index, name) in components.enumerated() {
            if isWhiteout(directory: directory, name: name, format: layer.whiteouts) { return (.absent, true) }
            let candidate = "\(directory)/\(name)"
            var st = stat()
            guard lstat(candidate, &st) == 0 else { return (.absent, hides) }
            if bsys_is_dir(st.st_mode) == 0 {
                guard index == components.count - 1 else { return (.absent, true) }
                guard bsys_is_lnk(st.st_mode) != 0, let text = try? FileSystem.readLink(candidate) else { return (.other, true) }
                return (.symlink(text), true)
            }
            if isOpaque(candidate, layer.whiteouts) { hides = true }
            directory = candidate
        }
        return (.directory, hides)
    }

    /// What the merged view holds at `components` (no symlink followed):
    /// the topmost layer's entry that nothing above hides.
    func mergedEntry(_ components: [String]) -> Presence {
        for layer in layers.reversed() {
            let (presence, hides) = self.presence(in: layer, components)
            if presence != .absent { return presence }
            if hides { return .absent }
        }
        return .absent
    }

    /// `path` with every symlink on it resolved as the container resolves
    /// it, inside the root (an absolute link starts again at the root, ".."
    /// stops there): the components of a directory of the image, or nil
    /// when there is none at `path`.
    public func resolveDirectory(_ path: String) -> [String]? {
        var resolved: [String] = []
        var remaining = path.split(separator: "/").map(String.init)
        var links = 0
        while !remaining.isEmpty {
            let name = remaining.removeFirst()
            if name == "." { continue }
            if name == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = resolved + [name]
            switch mergedEntry(candidate) {
            case .directory:
                resolved = candidate
            case .symlink(let text):
                links += 1
                if links > 40 { return nil }
                if text.hasPrefix("/") { resolved = [] }
                remaining = text.split(separator: "/").map(String.init) + remaining
            case .absent, .other:
                return nil
            }
        }
        return resolved
    }

    /// The layers whose directory at `components` shows in the merged
    /// view, bottom first: from the top down to the first that hides the rest.
    func directoryLayers(_ components: [String]) -> [Layer] {
        var found: [Layer] = []
        for layer in layers.reversed() {
            let (presence, hides) = self.presence(in: layer, components)
            if presence == .directory {
                found.append(layer)
            } else if presence != .absent {
                break
            }
            if hides { break }
        }
        return found.reversed()
    }

    /// Copies the image's directory at `path`, as the merged view shows it
    /// (whiteouts applied, the topmost directory's owner and mode), over
    /// `target`, owners, modes, times and extended attributes kept. false
    /// when the image has no directory there. Run inside the user
    /// namespace, where every owner can be set.
    public func copyDirectory(_ path: String, to target: String) throws -> Bool {
        guard let components = resolveDirectory(path) else { return false }
        let sources = directoryLayers(components)
        guard !sources.isEmpty else { return false }
        for layer in sources {
            var copier = TreeCopier(whiteouts: .apply(layer.whiteouts))
            try copier.copy(from: ([layer.tree] + components).joined(separator: "/"), to: target)
        }
        return true
    }
}
