import CBurrowSys

/// The openat2 RESOLVE_* sets a copy uses, by what they protect.
enum Resolve {
    /// A path in a container, from a descriptor of its root: `..` and
    /// absolute symlinks stop at that root, magic links (/proc/PID/root)
    /// are refused, and so is crossing into another mount (/proc, /sys,
    /// /dev and the generated /etc files are not the root filesystem).
    static let inContainer = UInt64(BSYS_RESOLVE_IN_ROOT | BSYS_RESOLVE_NO_MAGICLINKS | BSYS_RESOLVE_NO_XDEV)
    /// One name inside a directory descriptor, without following anything.
    static let beneath = UInt64(BSYS_RESOLVE_BENEATH | BSYS_RESOLVE_NO_SYMLINKS)
    /// The same, and the name may not be a mount point.
    static let beneathSameMount = beneath | UInt64(BSYS_RESOLVE_NO_XDEV)
}
