import BurrowOCI
import BurrowSystem

extension ContainerFilesystem {
    /// The overlay mount options of the container, relative to the store's
    /// root: the same mount the launch makes (see mountSteps).
    func overlayOptions(layers: [Digest]) throws -> String {
        let container = "containers/\(id)"
        var lower = layers.reversed().map { "layers/\($0.encoded)/\(layerView)" }
        if lower.isEmpty { lower = ["\(container)/empty"] }
        let options = "lowerdir=\(lower.joined(separator: ":")),upperdir=\(container)/upper,workdir=\(container)/work,userxattr"
        guard options.utf8.count < 4000 else {
            throw BurrowError.unsupported("the image has \(layers.count) layers, more than one overlay mount can name")
        }
        return options
    }
}
