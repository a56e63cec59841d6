/// What a long load reports as it goes; the CLI draws it on a terminal and
/// stays quiet in a pipe.
public protocol LoadProgress: AnyObject {
    func started(_ item: String, total: Int64?)
    func advanced(_ item: String, done: Int64)
    func finished(_ item: String, note: String)
    func warning(_ text: String)
}

/// Says nothing.
public final class SilentProgress: LoadProgress {
    public init() {}
    public func started(_ item: String, total: Int64?) {}
    public func advanced(_ item: String, done: Int64) {}
    public func finished(_ item: String, note: String) {}
    public func warning(_ text: String) {}
}
