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
