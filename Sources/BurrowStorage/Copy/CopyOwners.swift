/// Which owners a tree written by a copy gets.
public enum CopyOwners: Sendable {
    /// Every entry written belongs to these ids (as this process sees them).
    case fixed(uid: UInt32, gid: UInt32)
    /// Every entry keeps its own ids; one the namespace does not map is an
    /// error, unless it maps a single id, which then owns everything.
    case kept(CopyIdentities)
}
