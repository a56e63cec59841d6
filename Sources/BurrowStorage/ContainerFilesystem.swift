import BurrowArchive
import BurrowLaunch
import BurrowOCI
import BurrowStore
import BurrowSystem
import Glibc

/// A container's root filesystem: an overlay of the image's layers under a
/// private upper directory, or (vfs) a private copy of them.
public struct ContainerFilesystem: Sendable {
    public let layout: StoreLayout
    public let id: String
    public let driver: StorageDriver
    /// Which copy of each layer to read (LayerView).
    public let layerView: String
    /// Removed when it exits (--rm): its upper layer is never synced to disk.
    public let ephemeral: Bool

    public init(layout: StoreLayout, id: String, driver: StorageDriver, layerView: String = LayerView.standard, ephemeral: Bool = false) {
        self.layout = layout
        self.id = id
        self.driver = driver
        self.layerView = layerView
        self.ephemeral = ephemeral
    }

    public var directory: String { layout.container(id) }
    public var rootPath: String { driver == .overlay ? "\(directory)/merged" : "\(directory)/rootfs" }

    /// The container's directories; the vfs copy itself is made by `assemble`.
    public func create(layers: [Digest]) throws {
        try FileSystem.makeDirectory(directory, mode: 0o700)
        switch driver {
        case .overlay:
            for name in ["upper", "work", "merged"] { try FileSystem.makeDirectory("\(directory)/\(name)", mode: 0o755) }
            // overlayfs needs one lower directory even for an image without layers.
            if layers.isEmpty { try FileSystem.makeDirectory("\(directory)/empty", mode: 0o755) }
        case .vfs:
            try FileSystem.makeDirectory(rootPath, mode: 0o755)
        }
    }

    /// The first steps of a launch plan: mount the root filesystem. Overlay
    /// options name the layers relative to the store's root (the child
    /// enters it first), which keeps them short and free of the commas and
    /// colons a store path might hold.
    public func mountSteps(layers: [Digest]) throws -> [LaunchPlan.Step] {
        switch driver {
        case .overlay:
            let relativeContainer = "containers/\(id)"
            // volatile: no syncfs of the whole upper filesystem when a container that
            // is removed on exit unmounts (podman does the same for --rm).
            let options = try overlayOptions(layers: layers) + (ephemeral ? ",volatile" : "")
            return [
                LaunchPlan.Step(.changeDirectory(layout.root), label: "enter the store \(layout.root)"),
                LaunchPlan.Step(.mount(source: "overlay", target: "\(relativeContainer)/merged", type: "overlay", data: options,
                                       flags: [], inRoot: false, create: .nothing, optional: false, readOnly: false, recursive: false),
                                label: "mount overlay on /"),
                LaunchPlan.Step(.setRoot(rootPath), label: "open the root filesystem"),
            ]
        case .vfs:
            return [
                LaunchPlan.Step(.mount(source: rootPath, target: rootPath, type: nil, data: nil, flags: [.bind, .recursive],
                                       inRoot: false, create: .nothing, optional: false, readOnly: false, recursive: false),
                                label: "bind the root filesystem on /"),
                LaunchPlan.Step(.setRoot(rootPath), label: "open the root filesystem"),
            ]
        }
    }

    /// Copies the layers, bottom first, into the vfs root. Runs inside the
    /// user namespace so every owner can be set.
    public func assemble(layers: [Digest], whiteouts: (Digest) -> WhiteoutFormat) throws {
        for layer in layers {
            var copier = TreeCopier(whiteouts: .apply(whiteouts(layer)))
            try copier.copy(from: layout.layerTree(layer, view: layerView), to: rootPath)
        }
    }

    /// Moves the container's files out of sight in one rename, to be
    /// deleted later (by `purge`, or by the next sweep of the store's tmp/).
    public func retire() throws -> String {
        try FileSystem.rename(directory, to: retiredPath)
        return retiredPath
    }

    /// Where `retire` moves the container's directory.
    public var retiredPath: String { "\(layout.staging)/removed-container-\(id.prefix(16))" }

    /// Removes the container's files. false when some belong to ids only
    /// the user namespace can delete: the caller retries from inside it.
    public func remove() -> Bool {
        do {
            try FileSystem.removeTree(directory)
            return true
        } catch let error as SystemError where error.errno == EACCES || error.errno == EPERM {
            return false
        } catch {
            return false
        }
    }
}
