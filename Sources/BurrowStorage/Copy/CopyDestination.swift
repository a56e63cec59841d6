/// Where entries go: a tree on disk or a tar archive.
public protocol CopyDestination: AnyObject {
    func write(_ entry: CopyEntry, from source: CopySource) throws
    /// Called once, after the last entry.
    func finish() throws
    /// What could not be copied exactly (devices a user namespace cannot make, ...).
    var warnings: [String] { get }
}
