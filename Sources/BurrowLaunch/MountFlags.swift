/// mount(2) flags, and the option names that set or clear them.
public struct MountFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let readOnly = MountFlags(rawValue: 1)
    public static let noSetuid = MountFlags(rawValue: 2)
    public static let noDevices = MountFlags(rawValue: 4)
    public static let noExec = MountFlags(rawValue: 8)
    public static let synchronous = MountFlags(rawValue: 16)
    public static let remount = MountFlags(rawValue: 32)
    public static let noAccessTime = MountFlags(rawValue: 1024)
    public static let noDirectoryAccessTime = MountFlags(rawValue: 2048)
    public static let bind = MountFlags(rawValue: 4096)
    public static let recursive = MountFlags(rawValue: 16384)
    public static let `private` = MountFlags(rawValue: 1 << 18)
    public static let slave = MountFlags(rawValue: 1 << 19)
    public static let shared = MountFlags(rawValue: 1 << 20)
    public static let relativeAccessTime = MountFlags(rawValue: 1 << 21)
    public static let strictAccessTime = MountFlags(rawValue: 1 << 24)

    /// Option words as fstab and `--mount` spell them: (flag, sets it?).
    public static let byName: [String: (flag: MountFlags, set: Bool)] = [
        "ro": (.readOnly, true), "rw": (.readOnly, false),
        "nosuid": (.noSetuid, true), "suid": (.noSetuid, false),
        "nodev": (.noDevices, true), "dev": (.noDevices, false),
        "noexec": (.noExec, true), "exec": (.noExec, false),
        "sync": (.synchronous, true), "async": (.synchronous, false),
        "noatime": (.noAccessTime, true), "atime": (.noAccessTime, false),
        "nodiratime": (.noDirectoryAccessTime, true), "diratime": (.noDirectoryAccessTime, false),
        "relatime": (.relativeAccessTime, true), "norelatime": (.relativeAccessTime, false),
        "strictatime": (.strictAccessTime, true), "nostrictatime": (.strictAccessTime, false),
        "bind": (.bind, true), "rbind": ([.bind, .recursive], true),
        "private": (.private, true), "rprivate": ([.private, .recursive], true),
        "slave": (.slave, true), "rslave": ([.slave, .recursive], true),
        "shared": (.shared, true), "rshared": ([.shared, .recursive], true),
    ]
}
