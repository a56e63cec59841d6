/// What can be wrong with an archive or a layer, each naming the thing.
public struct ArchiveError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
