/// Where `burrow cp` puts its source, from what the source is and what is
/// at the destination: Docker's table for `docker cp`, as a pure function.
///
/// | source        | destination          | result                                     |
/// | ------------- | -------------------- | ------------------------------------------ |
/// | file          | missing              | a new file at DEST (its directory exists)  |
/// | file          | missing, ends in `/` | error: the directory must exist            |
/// | file          | file                 | DEST is replaced                           |
/// | file          | directory            | DEST/NAME                                  |
/// | directory     | missing              | DEST is created with SRC's contents        |
/// | directory     | file                 | error: a directory cannot go onto a file   |
/// | directory     | directory            | DEST/NAME                                  |
/// | directory/.   | directory            | SRC's contents into DEST                   |
///
/// A file here is anything but a directory: a symlink that is not followed
/// is copied as the symlink itself.
public enum CopyRules {
    public enum Source: Sendable, Equatable { case directory, other }
    public enum Destination: Sendable, Equatable { case missing, directory, other }

    public enum Placement: Sendable, Equatable {
        /// DEST is a directory; the source lands in it as DEST/name.
        case into(name: String)
        /// DEST is a directory; the source directory's entries land in it.
        case contentsInto
        /// The source becomes DEST itself (created, or a file replaced): it
        /// lands in DEST's directory under DEST's name.
        case at(name: String)
    }

    public enum Failure: Error, Sendable, Equatable {
        /// `SRC/` or `SRC/.` where SRC is not a directory.
        case sourceNotDirectory
        /// `DEST/` where DEST is a file.
        case destinationNotDirectory
        /// A file to `DEST/` where DEST does not exist.
        case destinationDirectoryMissing
        /// A directory onto an existing file.
        case directoryOntoFile
    }

    public static func placement(source: Source, sourceName: String, sourceAssertsDirectory: Bool, sourceContentsOnly: Bool,
                                 destination: Destination, destinationName: String,
                                 destinationAssertsDirectory: Bool) throws(Failure) -> Placement {
        if source == .other && (sourceAssertsDirectory || sourceContentsOnly) { throw .sourceNotDirectory }
        switch destination {
        case .directory:
            return source == .directory && sourceContentsOnly ? .contentsInto : .into(name: sourceName)
        case .other:
            if destinationAssertsDirectory { throw .destinationNotDirectory }
            if source == .directory { throw .directoryOntoFile }
            return .at(name: destinationName)
        case .missing:
            if source == .other && destinationAssertsDirectory { throw .destinationDirectoryMissing }
            return .at(name: destinationName)
        }
    }
}
