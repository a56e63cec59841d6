import BurrowArchive
import BurrowSystem

/// Reads entries from a tar archive (gzip, zstd, xz or bzip2 compressed, or
/// not), as `docker cp - CONTAINER:DIR` does. Member names are cleaned;
/// one that climbs above the destination refuses the whole archive.
public final class TarSource: CopySource {
    private let stream: LayerStream
    private let identities: CopyIdentities
    /// The archive's bytes read so far, as it arrived.
    public private(set) var bytesRead: Int64 = 0

    public init(fd: Int32, identities: CopyIdentities, displayName: String) throws {
        stream = try LayerStream(source: .stream(fd: fd), displayName: displayName)
        self.identities = identities
        stream.onProgress = { [unowned self] total in self.bytesRead = total }
    }

    public var currentFile: Int32? { nil }

    public func next() throws -> CopyEntry? {
        guard let member = try stream.next() else { return nil }
        let path: MemberPath
        do {
            path = try MemberPath.clean(member.rawPath)
        } catch {
            throw BurrowError.invalidArgument("archive member \(member.displayPath) climbs out of the destination: refusing the archive")
        }
        guard (0...Int64(UInt32.max)).contains(member.uid), (0...Int64(UInt32.max)).contains(member.gid) else {
            throw BurrowError.invalidArgument("archive member \(member.displayPath) has the owner \(member.uid):\(member.gid), which no user namespace maps")
        }
        let owner = identities.toProcess(uid: UInt32(member.uid), gid: UInt32(member.gid))
        var entry = CopyEntry(path: path, kind: TarSource.kind(member.kind), mode: member.mode, uid: owner.uid, gid: owner.gid,
                              size: member.size, modified: FileTime(seconds: member.mtime, nanoseconds: member.mtimeNanoseconds))
        switch member.kind {
        case .symlink:
            entry.symlinkTarget = member.linkTarget
        case .hardlink:
            do {
                entry.hardlinkTarget = try MemberPath.clean(member.linkTarget)
            } catch {
                throw BurrowError.invalidArgument("archive member \(member.displayPath) is a hard link climbing out of the destination: refusing the archive")
            }
        case .characterDevice, .blockDevice:
            entry.deviceMajor = member.deviceMajor
            entry.deviceMinor = member.deviceMinor
        default:
            break
        }
        entry.xattrs = member.xattrs.map { CopyEntry.Xattr(name: $0.name, value: $0.value) }
        return entry
    }

    public func readData(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws {
        try stream.readData(body)
    }

    static func kind(_ kind: LayerEntry.Kind) -> CopyEntry.Kind {
        switch kind {
        case .regular: return .regular
        case .directory: return .directory
        case .symlink: return .symlink
        case .hardlink: return .hardlink
        case .characterDevice: return .characterDevice
        case .blockDevice: return .blockDevice
        case .fifo: return .fifo
        case .socket: return .socket
        }
    }
}
