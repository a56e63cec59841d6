import Glibc

/// The user Burrow runs for, as the host knows them.
public struct HostUser: Sendable, Equatable {
    public let uid: UInt32
    public let gid: UInt32
    public let name: String
    public let home: String

    public init(uid: UInt32, gid: UInt32, name: String, home: String) {
        self.uid = uid
        self.gid = gid
        self.name = name
        self.home = home
    }

    /// /etc/passwd first (cheap, and NSS may be unavailable to a static
    /// binary), then NSS, then the environment.
    public static func current() -> HostUser {
        let uid = getuid()
        let gid = getgid()
        if let text = try? FileSystem.readText("/etc/passwd") {
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: ":", omittingEmptySubsequences: false)
                if fields.count >= 7, UInt32(fields[2]) == uid {
                    return HostUser(uid: uid, gid: gid, name: String(fields[0]), home: environment("HOME") ?? String(fields[5]))
                }
            }
        }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>? = nil
        var buffer = [CChar](repeating: 0, count: 4096)
        if getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil {
            return HostUser(uid: uid, gid: gid, name: String(cString: entry.pw_name), home: environment("HOME") ?? String(cString: entry.pw_dir))
        }
        let name = environment("USER") ?? environment("LOGNAME") ?? String(uid)
        return HostUser(uid: uid, gid: gid, name: name, home: environment("HOME") ?? "/")
    }
}

public func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
}
