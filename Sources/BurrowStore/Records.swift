import BurrowOCI

/// An unpacked layer, shared by every image and container above it. Written
/// last into the staging directory, so a layer directory without it is junk.
public struct LayerRecord: Codable, Sendable {
    public var diffID: Digest
    public var size: Int64
    public var entries: Int
    public var whiteouts: String
    public var created: String

    public init(diffID: Digest, size: Int64, entries: Int, whiteouts: String, created: String) {
        self.diffID = diffID
        self.size = size
        self.entries = entries
        self.whiteouts = whiteouts
        self.created = created
    }
}

/// An image: its configuration (kept verbatim beside this record, so its
/// digest stays its id) and its layers, bottom first.
public struct ImageRecord: Codable, Sendable {
    public var id: Digest
    public var layers: [Digest]
    public var manifestDigest: Digest?
    public var size: Int64
    public var added: String

    public init(id: Digest, layers: [Digest], manifestDigest: Digest?, size: Int64, added: String) {
        self.id = id
        self.layers = layers
        self.manifestDigest = manifestDigest
        self.size = size
        self.added = added
    }
}

/// A container as the store keeps it between commands.
public struct ContainerRecord: Codable, Sendable {
    public enum State: String, Codable, Sendable { case created, running, exited }

    public var id: String
    public var name: String
    public var imageID: Digest
    public var imageName: String
    public var layers: [Digest]
    public var command: [String]
    public var created: String
    public var state: State
    public var pid: Int32?
    public var exitCode: Int32?
    public var finished: String?
    public var driver: String
    public var autoRemove: Bool
    /// The layer copies the container reads (LayerView); nil is the standard one.
    public var layerView: String?

    public init(id: String, name: String, imageID: Digest, imageName: String, layers: [Digest], command: [String], created: String, driver: String, autoRemove: Bool) {
        self.id = id
        self.name = name
        self.imageID = imageID
        self.imageName = imageName
        self.layers = layers
        self.command = command
        self.created = created
        self.state = .created
        self.driver = driver
        self.autoRemove = autoRemove
    }
}
