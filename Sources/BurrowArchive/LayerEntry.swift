import CArchive

/// One member of a layer tar, copied out of libarchive's entry.
public struct LayerEntry: Sendable {
    public enum Kind: Sendable, Equatable {
        case regular, directory, symlink, hardlink, characterDevice, blockDevice, fifo, socket
    }

    public let rawPath: [UInt8]
    public let kind: Kind
    public let mode: UInt32        // permission bits including setuid, setgid, sticky
    public let uid: Int64
    public let gid: Int64
    public let size: Int64
    public let mtime: Int64
    public let mtimeNanoseconds: Int
    public let linkTarget: [UInt8]  // symlink text or hard link target
    public let deviceMajor: UInt32
    public let deviceMinor: UInt32
    public let xattrs: [(name: String, value: [UInt8])]

    public var displayPath: String { String(decoding: rawPath, as: UTF8.self) }

    init(_ entry: OpaquePointer) {
        rawPath = LayerEntry.bytes(archive_entry_pathname(entry))
        let hardlink = archive_entry_hardlink(entry)
        let type = UInt32(archive_entry_filetype(entry)) // S_IF* values; the AE_IF* macros do not import
        if hardlink != nil {
            kind = .hardlink
            linkTarget = LayerEntry.bytes(hardlink)
        } else {
            switch type {
            case 0o040000: kind = .directory
            case 0o120000: kind = .symlink
            case 0o020000: kind = .characterDevice
            case 0o060000: kind = .blockDevice
            case 0o010000: kind = .fifo
            case 0o140000: kind = .socket
            default: kind = .regular
            }
            linkTarget = kind == .symlink ? LayerEntry.bytes(archive_entry_symlink(entry)) : []
        }
        mode = UInt32(archive_entry_perm(entry)) & 0o7777
        uid = archive_entry_uid(entry)
        gid = archive_entry_gid(entry)
        size = archive_entry_size(entry)
        mtime = Int64(archive_entry_mtime(entry))
        mtimeNanoseconds = archive_entry_mtime_nsec(entry)
        deviceMajor = UInt32(archive_entry_rdevmajor(entry))
        deviceMinor = UInt32(archive_entry_rdevminor(entry))
        var xattrs: [(String, [UInt8])] = []
        if archive_entry_xattr_reset(entry) > 0 {
            var name: UnsafePointer<CChar>? = nil
            var value: UnsafeRawPointer? = nil
            var length = 0
            while archive_entry_xattr_next(entry, &name, &value, &length) == ARCHIVE_OK {
                guard let name else { continue }
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
                xattrs.append((String(cString: name), bytes))
            }
        }
        self.xattrs = xattrs
    }

    private static func bytes(_ pointer: UnsafePointer<CChar>?) -> [UInt8] {
        guard let pointer else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
    }
}

@_silgen_name("strlen") private func strlen(_ s: UnsafePointer<CChar>) -> Int
