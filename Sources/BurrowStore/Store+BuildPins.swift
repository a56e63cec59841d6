import BurrowOCI
import BurrowSystem
import Glibc

/// Layers a running `burrow build` holds: its base images', the layers its
/// steps have made so far and the host CA layer. None of them belongs to an
/// image or a container record until the build ends, so without a pin a
/// `burrow rm` or `rmi` meanwhile would delete them as orphans under it.
/// A pin is a file naming its build process (ProcessIdentity) and one diff
/// id a line; the pin of a build that no longer runs counts for nothing.
extension Store {
    public var buildPins: String { "\(layout.root)/build-pins" }

    /// Replaces the pin `name` with these layers.
    public func pin(_ name: String, layers: Set<Digest>) throws {
        try FileSystem.makeDirectories(buildPins, mode: 0o700)
        let text = ([ProcessIdentity.current().description] + layers.map(\.description).sorted()).joined(separator: "\n") + "\n"
        try FileSystem.writeAtomically("\(buildPins)/\(name)", Array(text.utf8), mode: 0o600)
    }

    public func unpin(_ name: String) {
        unlink("\(buildPins)/\(name)")
    }

    /// The layers of every build that still runs; pins of ended builds are removed.
    public func pinnedLayers() -> Set<Digest> {
        var layers = Set<Digest>()
        for name in (try? FileSystem.entries(of: buildPins)) ?? [] {
            guard let text = try? FileSystem.readText("\(buildPins)/\(name)") else { continue }
            let lines = text.split(separator: "\n").map(String.init)
            guard let owner = lines.first.flatMap(ProcessIdentity.init), owner.isAlive else {
                unlink("\(buildPins)/\(name)")
                continue
            }
            layers.formUnion(lines.dropFirst().compactMap(Digest.init))
        }
        return layers
    }
}
