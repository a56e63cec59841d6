/// How a container's root filesystem is put together from its image's layers.
public enum StorageDriver: String, Codable, Sendable, CaseIterable {
    /// The kernel's overlayfs, mounted inside the user namespace: nothing is copied.
    case overlay
    /// A full copy of the layers per container: slow to create, works anywhere.
    case vfs
}

/// The driver in use and why, as `burrow info` shows it.
public struct StorageChoice: Sendable {
    public let driver: StorageDriver
    public let reason: String
    public let whiteouts: String
}
