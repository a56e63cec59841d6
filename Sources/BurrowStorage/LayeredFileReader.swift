import BurrowArchive
import BurrowSystem
import CBurrowSys
import Glibc

/// Reads one file of an image as the merged view would show it, straight
/// from the layer directories: the topmost layer that has it wins, a
/// whiteout or an opaque directory above hides it. Used for /etc/passwd and
/// /etc/group before the container exists.
public struct LayeredFileReader {
    public struct Layer {
        public let tree: String
        public let whiteouts: WhiteoutFormat
        public init(tree: String, whiteouts: WhiteoutFormat) {
            self.tree = tree
            self.whiteouts = whiteouts
        }
    }

    /// Bottom layer first, as an image lists them.
    public let layers: [Layer]

    public init(layers: [Layer]) { self.layers = layers }

    /// nil when no layer holds the file, or it is hidden, or not a regular file.
    public func read(_ path: String) -> [UInt8]? {
        let components = path.split(separator: "/").map(String.init)
        guard !components.isEmpty else { return nil }
        for layer in layers.reversed() {
            var directory = layer.tree
            var stop = false
            var opaqueAbove = false
            for (index, name) in components.enumerated() {
                let candidate = "\(directory)/\(name)"
                if isWhiteout(directory: directory, name: name, format: layer.whiteouts) { return nil }
                var st = stat()
                guard lstat(candidate, &st) == 0 else {
                    if opaqueAbove || isOpaque(directory, layer.whiteouts) { return nil }
                    stop = true
                    break
                }
                if index == components.count - 1 {
                    guard bsys_is_reg(st.st_mode) != 0 else { return nil }
                    return try? FileSystem.readFile(candidate)
                }
                guard bsys_is_dir(st.st_mode) != 0 else { return nil }
                directory = candidate
                if isOpaque(directory, layer.whiteouts) { opaqueAbove = true }
            }
            if stop { continue }
        }
        return nil
    }

    func isWhiteout(directory: String, name: String, format: WhiteoutFormat) -> Bool {
        switch format {
        case .aufs:
            return FileSystem.exists("\(directory)/.wh.\(name)")
        case .overlay:
            var st = stat()
            return lstat("\(directory)/\(name)", &st) == 0 && bsys_is_chr(st.st_mode) != 0 && st.st_rdev == 0
        }
    }

    func isOpaque(_ directory: String, _ format: WhiteoutFormat) -> Bool {
        switch format {
        case .aufs:
            return FileSystem.exists("\(directory)/.wh..wh..opq")
        case .overlay:
            var value: UInt8 = 0
            return bsys_lgetxattr(directory, "user.overlay.opaque", &value, 1) == 1 && value == UInt8(ascii: "y")
        }
    }
}
