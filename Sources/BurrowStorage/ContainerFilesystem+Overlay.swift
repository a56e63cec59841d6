import BurrowOCI
import BurrowSystem

extension ContainerFilesystem {
    /// The overlay mount options of the container, relative to the store's
    /// root (the launch enters the store first): short, and free of the
    /// commas and colons a store path might hold. Shared by the launch
    /// (mountSteps) and `cp` of a stopped container.
    func overlayOptions(layers: [Digest]) throws -> String {
        let container = "containers/\(id)"
        var lower = layers.reversed().map { "layers/\($0.encoded)/\(layerView)" }
        if lower.isEmpty { lower = ["\(container)/empty"] }
        let options = "lowerdir=\(lower.joined(separator: ":")),upperdir=\(container)/upper,workdir=\(container)/work,userxattr"
        guard options.utf8.count < 4000 else {
            throw BurrowError.unsupported("the image has \(layers.count) layers, more than one overlay mount can name: use --storage-driver vfs")
        }
        return options
    }
}
