/// The image's /etc/passwd and /etc/group, and how `-u USER[:GROUP]` and the
/// image's User resolve against them, as runc resolves them for Docker.
public struct UserDatabase: Sendable {
    public struct User: Sendable, Equatable {
        public let name: String
        public let uid: UInt32
        public let gid: UInt32
        public let home: String
    }

    public struct Group: Sendable, Equatable {
        public let name: String
        public let gid: UInt32
        public let members: [String]
    }

    public let users: [User]
    public let groups: [Group]

    public init(passwd: String?, group: String?) {
        users = (passwd ?? "").split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 7, !f[0].hasPrefix("#"), let uid = UInt32(f[2]), let gid = UInt32(f[3]) else { return nil }
            return User(name: String(f[0]), uid: uid, gid: gid, home: String(f[5]))
        }
        groups = (group ?? "").split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 4, !f[0].hasPrefix("#"), let gid = UInt32(f[2]) else { return nil }
            return Group(name: String(f[0]), gid: gid, members: f[3].split(separator: ",").map(String.init))
        }
    }

    /// Who the container's process runs as.
    public struct Resolved: Sendable, Equatable {
        public let uid: UInt32
        public let gid: UInt32
        public let home: String
        public let additionalGroups: [UInt32]
    }

    public enum ResolveError: Error, Equatable, CustomStringConvertible {
        case unknownUser(String)
        case unknownGroup(String)
        case invalid(String)

        public var description: String {
            switch self {
            case .unknownUser(let name): return "unable to find user \(name): no matching entries in passwd file"
            case .unknownGroup(let name): return "unable to find group \(name): no matching entries in group file"
            case .invalid(let spec): return "invalid user \"\(spec)\": use NAME, UID, NAME:GROUP or UID:GID"
            }
        }
    }

    /// "" is root. A number without a passwd entry is that uid with gid 0
    /// and home /, as Docker does.
    public func resolve(_ spec: String) throws(ResolveError) -> Resolved {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts.first ?? ""
        let groupPart = parts.count > 1 ? parts[1] : nil
        if parts.count > 1 && groupPart!.isEmpty { throw .invalid(spec) }

        let user: User?
        var uid: UInt32
        var gid: UInt32 = 0
        var home = "/"
        if userPart.isEmpty {
            user = users.first { $0.uid == 0 }
            uid = 0
        } else if let number = UInt32(userPart) {
            user = users.first { $0.uid == number }
            uid = number
        } else {
            guard let found = users.first(where: { $0.name == userPart }) else { throw .unknownUser(userPart) }
            user = found
            uid = found.uid
        }
        if let user {
            uid = user.uid
            gid = user.gid
            home = user.home
        }
        if let groupPart {
            if let number = UInt32(groupPart) {
                gid = number
            } else {
                guard let group = groups.first(where: { $0.name == groupPart }) else { throw .unknownGroup(groupPart) }
                gid = group.gid
            }
        }
        var additional: [UInt32] = []
        if let name = user?.name {
            for group in groups where group.members.contains(name) && !additional.contains(group.gid) {
                additional.append(group.gid)
            }
        }
        return Resolved(uid: uid, gid: gid, home: home.isEmpty ? "/" : home, additionalGroups: additional)
    }
}
