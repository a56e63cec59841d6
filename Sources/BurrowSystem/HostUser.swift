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
        // Inside a user namespace of burrow's (a helper, a monitor in the
        // standing namespace, a command that joined a container's), the ids
        // are the namespace's own: the user is who they map to on the host.
        let uid = outside(getuid(), map: "/proc/self/uid_map")
        let gid = outside(getgid(), map: "/proc/self/gid_map")
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

extension HostUser {
    /// The id `inside` this process's user namespace maps to in its parent.
    static func outside(_ inside: UInt32, map path: String) -> UInt32 {
        guard let text = try? FileSystem.readText(path) else { return inside }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").compactMap { UInt64($0) }
            guard fields.count == 3, UInt64(inside) >= fields[0], UInt64(inside) < fields[0] + fields[2] else { continue }
            return UInt32(truncatingIfNeeded: fields[1] + (UInt64(inside) - fields[0]))
        }
        return inside
    }
}

public func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
}
