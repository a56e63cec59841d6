/// Where entries come from: a tree on disk or a tar archive.
public protocol CopySource: AnyObject {
    /// The next entry, nil at the end. Directories come before what they hold.
    func next() throws -> CopyEntry?
    /// The current regular file's bytes, block by block, each with its offset.
    func readData(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws
    /// The current regular file, open for reading, when the source has one.
    var currentFile: Int32? { get }
}
