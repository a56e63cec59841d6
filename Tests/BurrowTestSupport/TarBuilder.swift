import Foundation

/// Builds tar archives byte by byte, hostile ones included: names with
/// `..`, absolute paths, links pointing out, whiteouts, PAX records.
public struct TarBuilder {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public enum Kind {
        case file(String)
        case bytes([UInt8])
        case directory
        case symlink(String)
        case hardlink(String)
        case characterDevice(major: Int, minor: Int)
        case fifo
    }

    /// Adds one member; `pax` adds a PAX header first (long names, xattrs
    /// such as "SCHILY.xattr.security.capability").
    public mutating func add(_ name: String, _ kind: Kind, mode: Int = -1, uid: Int = 0, gid: Int = 0,
                             mtime: Int = 1_704_067_200, pax: [(String, [UInt8])] = []) {
        var records = pax
        var headerName = name
        if name.utf8.count > 99 {
            records.append(("path", Array(name.utf8)))
            headerName = String(name.suffix(99))
        }
        var linkName = ""
        switch kind {
        case .symlink(let target), .hardlink(let target):
            linkName = target
            if target.utf8.count > 99 {
                records.append(("linkpath", Array(target.utf8)))
                linkName = String(target.prefix(99))
            }
        default: break
        }
        if !records.isEmpty {
            var body: [UInt8] = []
            for (key, value) in records {
                let content = Array(" \(key)=".utf8) + value + [10]
                var length = content.count + 1
                while String(length).utf8.count + content.count != length { length = String(length).utf8.count + content.count }
                body += Array(String(length).utf8) + content
            }
            appendHeader(name: "PaxHeaders/\(headerName.suffix(80))", type: UInt8(ascii: "x"), size: body.count, mode: 0o644, uid: 0, gid: 0, mtime: mtime, link: "", major: 0, minor: 0)
            appendData(body)
        }
        switch kind {
        case .file, .bytes:
            let data: [UInt8]
            if case .file(let content) = kind { data = Array(content.utf8) } else if case .bytes(let raw) = kind { data = raw } else { data = [] }
            appendHeader(name: headerName, type: UInt8(ascii: "0"), size: data.count, mode: mode < 0 ? 0o644 : mode, uid: uid, gid: gid, mtime: mtime, link: "", major: 0, minor: 0)
            appendData(data)
        case .directory:
            appendHeader(name: headerName.hasSuffix("/") ? headerName : headerName + "/", type: UInt8(ascii: "5"), size: 0, mode: mode < 0 ? 0o755 : mode, uid: uid, gid: gid, mtime: mtime, link: "", major: 0, minor: 0)
        case .symlink:
            appendHeader(name: headerName, type: UInt8(ascii: "2"), size: 0, mode: mode < 0 ? 0o777 : mode, uid: uid, gid: gid, mtime: mtime, link: linkName, major: 0, minor: 0)
        case .hardlink:
            appendHeader(name: headerName, type: UInt8(ascii: "1"), size: 0, mode: mode < 0 ? 0o644 : mode, uid: uid, gid: gid, mtime: mtime, link: linkName, major: 0, minor: 0)
        case .characterDevice(let major, let minor):
            appendHeader(name: headerName, type: UInt8(ascii: "3"), size: 0, mode: mode < 0 ? 0o644 : mode, uid: uid, gid: gid, mtime: mtime, link: "", major: major, minor: minor)
        case .fifo:
            appendHeader(name: headerName, type: UInt8(ascii: "6"), size: 0, mode: mode < 0 ? 0o644 : mode, uid: uid, gid: gid, mtime: mtime, link: "", major: 0, minor: 0)
        }
    }

    /// The archive with its two zero end blocks.
    public func finished() -> [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }

    private mutating func appendHeader(name: String, type: UInt8, size: Int, mode: Int, uid: Int, gid: Int, mtime: Int, link: String, major: Int, minor: Int) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (i, byte) in text.utf8.prefix(width).enumerated() { header[offset + i] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(mode, at: 100, width: 8)
        octal(uid, at: 108, width: 8)
        octal(gid, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(mtime, at: 136, width: 12)
        header[156] = type
        put(link, at: 157, width: 100)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        octal(major, at: 329, width: 8)
        octal(minor, at: 337, width: 8)
        for i in 148..<156 { header[i] = 32 }
        let sum = header.reduce(0) { $0 + Int($1) }
        octal(sum, at: 148, width: 7)
        header[155] = 32
        bytes += header
    }

    private mutating func appendData(_ data: [UInt8]) {
        bytes += data
        let padding = (512 - data.count % 512) % 512
        bytes += [UInt8](repeating: 0, count: padding)
    }
}

/// Compression and hashing through the system's tools, for building fixtures.
public enum Fixtures {
    public static func gzip(_ data: [UInt8]) throws -> [UInt8] { try pipe(data, through: "/bin/gzip", ["-c", "-n"]) }
    public static func zstd(_ data: [UInt8]) throws -> [UInt8] { try pipe(data, through: "/usr/bin/zstd", ["-c", "-q"]) }

    public static func sha256(_ data: [UInt8]) throws -> String {
        let out = try pipe(data, through: "/usr/bin/sha256sum", [])
        return "sha256:" + String(decoding: out.prefix(64), as: UTF8.self)
    }

    public static func pipe(_ data: [UInt8], through tool: String, _ arguments: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread {
            input.fileHandleForWriting.write(Data(data))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let result = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(result)
    }

    /// A scratch directory, removed by the caller.
    public static func temporaryDirectory(_ prefix: String = "burrow-test") -> String {
        let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
