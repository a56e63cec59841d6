import BurrowLaunch
import BurrowSystem

/// The user running burrow, their subordinate ids, and the maps that follow.
public struct Identity: Sendable {
    public let user: HostUser
    public let subUIDs: [SubordinateRange]
    public let subGIDs: [SubordinateRange]

    public static func current() -> Identity {
        let user = HostUser.current()
        return Identity(user: user,
                        subUIDs: SubordinateIDs.read("/etc/subuid", user: user),
                        subGIDs: SubordinateIDs.read("/etc/subgid", user: user))
    }

    public var hasSubordinateIDs: Bool { !subUIDs.isEmpty && !subGIDs.isEmpty }

    /// The maps for `mode`, or an error that says what to add to /etc/subuid.
    public func mapping(_ mode: UserNamespaceMapping.Mode) throws -> UserNamespaceMapping {
        // One file without the other maps only the user: both or neither.
        let uids = hasSubordinateIDs ? subUIDs : []
        let gids = hasSubordinateIDs ? subGIDs : []
        do {
            return try UserNamespaceMapping.make(mode: mode, user: user, subUIDs: uids, subGIDs: gids)
        } catch {
            let text = (try? FileSystem.readText(error.file)) ?? ""
            let start = SubordinateIDs.freeStart(in: text, count: 65536)
            return try fail(error.file, available: error.available, start: start)
        }
    }

    private func fail(_ file: String, available: UInt32, start: UInt32) throws -> UserNamespaceMapping {
        throw BurrowError.unsupported("your subordinate id range in \(file) has \(available) ids, burrow needs at least 65536: ask an administrator to add \"\(user.name):\(start):65536\" to /etc/subuid and /etc/subgid (or to remove your entries, to run with your own id only)")
    }
}
