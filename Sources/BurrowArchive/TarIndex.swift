import BurrowSystem
import Glibc

/// The members of an outer archive (docker-archive, oci-archive), located by
/// offset so each blob can be read in place without extracting it. Reads
/// ustar, pax and GNU long names; checks every header's checksum.
public struct TarIndex: Sendable {
    public struct Member: Sendable {
        public let name: String
        public let offset: Int64
        public let size: Int64
        public let isRegular: Bool
        public let linkTarget: String?
    }

    public let members: [String: Member]

    public init(reading fd: Int32, displayName: String) throws {
        var members: [String: Member] = [:]
        var offset: Int64 = 0
        var header = [UInt8](repeating: 0, count: 512)
        var longName: String? = nil
        var paxPath: String? = nil
        var paxLinkPath: String? = nil
        var paxSize: Int64? = nil
        var zeroBlocks = 0
        let fileSize: Int64 = {
            var st = stat()
            return fstat(fd, &st) == 0 ? Int64(st.st_size) : Int64.max
        }()

        while true {
            let n = try TarIndex.readExactly(fd, into: &header, at: offset)
            if n == 0 {
                if members.isEmpty { throw ArchiveError("\(displayName) is empty: expected a docker-archive or oci-archive tar file") }
                break
            }
            guard n == 512 else {
                throw ArchiveError(offset == 0
                    ? "\(displayName) is not a tar archive (\(n) bytes): expected a docker-archive or oci-archive (from docker save, podman save or skopeo)"
                    : "\(displayName) is truncated at byte \(offset): the archive ends inside a tar header")
            }
            if header.allSatisfy({ $0 == 0 }) {
                zeroBlocks += 1
                offset += 512
                if zeroBlocks == 2 { break }
                continue
            }
            zeroBlocks = 0
            guard TarIndex.checksumMatches(header) else {
                throw ArchiveError(offset == 0
                    ? "\(displayName) is not a tar archive: expected a docker-archive or oci-archive (from docker save, podman save or skopeo)"
                    : "\(displayName) is corrupt at byte \(offset): a tar header has a bad checksum")
            }
            let type = header[156]
            var size = TarIndex.number(header[124..<136])
            if let override = paxSize { size = override }
            let dataOffset = offset + 512
            guard dataOffset + size <= fileSize else {
                throw ArchiveError("\(displayName) is truncated: member \(TarIndex.string(header[0..<100])) needs \(size) bytes past byte \(dataOffset), the file has \(fileSize)")
            }
            switch type {
            case UInt8(ascii: "x"):
                let data = try TarIndex.read(fd, at: dataOffset, count: Int(size))
                for (key, value) in TarIndex.paxRecords(data) {
                    if key == "path" { paxPath = value }
                    if key == "linkpath" { paxLinkPath = value }
                    if key == "size", let s = Int64(value) { paxSize = s }
                }
            case UInt8(ascii: "g"):
                break
            case UInt8(ascii: "L"):
                let data = try TarIndex.read(fd, at: dataOffset, count: Int(size))
                longName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
            case UInt8(ascii: "K"):
                let data = try TarIndex.read(fd, at: dataOffset, count: Int(size))
                paxLinkPath = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
            default:
                var name = TarIndex.string(header[0..<100])
                let prefix = TarIndex.string(header[345..<500])
                if header[257..<262].elementsEqual(Array("ustar".utf8)) && !prefix.isEmpty { name = prefix + "/" + name }
                if let longName { name = longName }
                if let paxPath { name = paxPath }
                let cleaned = (try? MemberPath.clean(name))?.description ?? name
                let isRegular = type == 0 || type == UInt8(ascii: "0") || type == UInt8(ascii: "7")
                let link: String? = (type == UInt8(ascii: "2") || type == UInt8(ascii: "1"))
                    ? (paxLinkPath ?? TarIndex.string(header[157..<257])) : nil
                members[cleaned] = Member(name: cleaned, offset: dataOffset, size: size, isRegular: isRegular, linkTarget: link)
                longName = nil
                paxPath = nil
                paxLinkPath = nil
                paxSize = nil
            }
            offset = dataOffset + (size + 511) / 512 * 512
        }
        self.members = members
    }

    /// The regular file behind `name`, following symlinks and hard links
    /// between members (newer `docker save` links repeated layers).
    public func regularMember(_ name: String) -> Member? {
        var current = (try? MemberPath.clean(name))?.description ?? name
        for _ in 0..<16 {
            guard let member = members[current] else { return nil }
            if member.isRegular { return member }
            guard let target = member.linkTarget else { return nil }
            let base = target.hasPrefix("/") ? "" : (current.split(separator: "/").dropLast().joined(separator: "/"))
            current = (try? MemberPath.clean(base.isEmpty ? target : base + "/" + target))?.description ?? target
            if members[current] == nil, let direct = try? MemberPath.clean(target) { current = direct.description }
        }
        return nil
    }

    public static func read(_ fd: Int32, at offset: Int64, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = try readExactly(fd, into: &buffer, at: offset)
        guard n == count else { throw ArchiveError("archive ends early at byte \(offset + Int64(n))") }
        return buffer
    }

    static func readExactly(_ fd: Int32, into buffer: inout [UInt8], at offset: Int64) throws -> Int {
        var filled = 0
        let count = buffer.count
        while filled < count {
            let n = try buffer.withUnsafeMutableBytes { raw in
                try syscall("read") { pread(fd, raw.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled)) }
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }

    static func string(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Octal, or base-256 when the high bit of the first byte is set.
    static func number(_ field: ArraySlice<UInt8>) -> Int64 {
        if let first = field.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x7f)
            for byte in field.dropFirst() { value = (value << 8) | Int64(byte) }
            return value
        }
        var value: Int64 = 0
        for byte in field {
            if byte == 0 || byte == 32 { if value > 0 { break } else { continue } }
            guard byte >= 48 && byte <= 55 else { break }
            value = value * 8 + Int64(byte - 48)
        }
        return value
    }

    static func checksumMatches(_ header: [UInt8]) -> Bool {
        let stored = number(header[148..<156])
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for (i, byte) in header.enumerated() {
            let value: UInt8 = (148..<156).contains(i) ? 32 : byte
            unsigned += Int64(value)
            signed += Int64(Int8(bitPattern: value))
        }
        return stored == unsigned || stored == signed
    }

    static func paxRecords(_ data: [UInt8]) -> [(String, String)] {
        var records: [(String, String)] = []
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: 32),
                  let length = Int(String(decoding: data[index..<space], as: UTF8.self)), length > 0,
                  index + length <= data.count else { break }
            let record = data[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: 61) {
                records.append((String(decoding: record[..<equals], as: UTF8.self), String(decoding: record[(equals + 1)...], as: UTF8.self)))
            }
            index += length
        }
        return records
    }
}
