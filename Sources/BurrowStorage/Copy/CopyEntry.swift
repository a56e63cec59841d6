import BurrowArchive

/// One thing being copied: a file, directory, link or special file, with
/// its path relative to the top of what is copied (the top itself has the
/// empty path). Owners are ids as this process sees them.
public struct CopyEntry: Sendable {
    public enum Kind: Sendable, Equatable {
        case regular, directory, symlink, hardlink, fifo, characterDevice, blockDevice, socket
    }

    public var path: MemberPath
    public var kind: Kind
    /// Permission bits with setuid, setgid and sticky.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: Int64
    public var modified: FileTime
    public var accessed: FileTime
    /// A symlink's text, verbatim.
    public var symlinkTarget: [UInt8] = []
    /// A hard link: the entry, earlier in the same copy, it shares a file with.
    public var hardlinkTarget: MemberPath? = nil
    public var deviceMajor: UInt32 = 0
    public var deviceMinor: UInt32 = 0
    public var xattrs: [Xattr] = []

    public struct Xattr: Sendable, Equatable {
        public let name: String
        public let value: [UInt8]
        public init(name: String, value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }

    public init(path: MemberPath, kind: Kind, mode: UInt32, uid: UInt32, gid: UInt32, size: Int64 = 0,
                modified: FileTime, accessed: FileTime? = nil) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.modified = modified
        self.accessed = accessed ?? modified
    }
}

/// Seconds and nanoseconds, as stat and utimensat have them.
public struct FileTime: Sendable, Equatable {
    public let seconds: Int64
    public let nanoseconds: Int

    public init(seconds: Int64, nanoseconds: Int = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

/// Where entries come from: a tree on disk or a tar archive.
public protocol CopySource: AnyObject {
    /// The next entry, nil at the end. Directories come before what they hold.
    func next() throws -> CopyEntry?
    /// The current regular file's bytes, block by block, each with its offset.
    func readData(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws
    /// The current regular file, open for reading, when the source has one.
    var currentFile: Int32? { get }
}

/// Where entries go: a tree on disk or a tar archive.
public protocol CopyDestination: AnyObject {
    func write(_ entry: CopyEntry, from source: CopySource) throws
    /// Called once, after the last entry.
    func finish() throws
    /// What could not be copied exactly (devices a user namespace cannot make, ...).
    var warnings: [String] { get }
}
