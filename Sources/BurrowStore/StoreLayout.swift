import BurrowOCI
import BurrowSystem

/// Where everything lives under the store's root directory.
public struct StoreLayout: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    /// `--root`, then `BURROW_ROOT`, then `${XDG_DATA_HOME:-~/.local/share}/burrow`.
    public static func defaultRoot(user: HostUser) -> String {
        if let explicit = environment("BURROW_ROOT") { return explicit }
        let data = environment("XDG_DATA_HOME") ?? "\(user.home)/.local/share"
        return "\(data)/burrow"
    }

    public var lockFile: String { "\(root)/store.lock" }
    public var tagsFile: String { "\(root)/tags.json" }
    public var storageFile: String { "\(root)/storage.json" }
    public var layers: String { "\(root)/layers" }
    public var images: String { "\(root)/images" }
    public var containers: String { "\(root)/containers" }
    public var names: String { "\(root)/names" }
    public var staging: String { "\(root)/tmp" }
    public var volumes: String { "\(root)/volumes" }

    public func layer(_ diffID: Digest) -> String { "\(layers)/\(diffID.encoded)" }
    /// The unpacked tree, as overlayfs and the vfs copy read it. A view other
    /// than "root" is a copy with some owners changed (see LayerView).
    public func layerTree(_ diffID: Digest, view: String = LayerView.standard) -> String { "\(layer(diffID))/\(view)" }
    public func layerRecord(_ diffID: Digest) -> String { "\(layer(diffID))/layer.json" }
    public func image(_ id: Digest) -> String { "\(images)/\(id.encoded)" }
    public func imageRecord(_ id: Digest) -> String { "\(image(id))/image.json" }
    public func imageConfig(_ id: Digest) -> String { "\(image(id))/config.json" }
    public func imageManifest(_ id: Digest) -> String { "\(image(id))/manifest.json" }
    public func container(_ id: String) -> String { "\(containers)/\(id)" }
    public func containerRecord(_ id: String) -> String { "\(container(id))/container.json" }
    public func containerConfig(_ id: String) -> String { "\(container(id))/config.json" }
    public func containerLog(_ id: String) -> String { "\(container(id))/container.log" }
    /// Held while a container's record is read and rewritten.
    public func containerLock(_ id: String) -> String { "\(container(id))/lock" }
    public func name(_ name: String) -> String { "\(names)/\(name)" }
    /// A volume: its record beside `_data`, the directory containers see (Docker's layout).
    public func volume(_ name: String) -> String { "\(volumes)/\(name)" }
    public func volumeData(_ name: String) -> String { "\(volume(name))/_data" }
    public func volumeRecord(_ name: String) -> String { "\(volume(name))/volume.json" }
}
