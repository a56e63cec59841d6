import BurrowSystem
import Glibc

/// Writes a child's uid and gid maps: through the setuid newuidmap and
/// newgidmap when subordinate ids are mapped, directly otherwise (a process
/// may map its own id, once setgroups is denied).
enum IDMapWriter {
    static func write(_ mapping: UserNamespaceMapping, pid: Int32) throws {
        if mapping.needsHelpers {
            try writeWithHelpers(mapping, pid: pid)
        } else {
            try writeDirectly(mapping, pid: pid)
        }
    }

    static func writeDirectly(_ mapping: UserNamespaceMapping, pid: Int32) throws {
        func put(_ file: String, _ text: String) throws {
            let path = "/proc/\(pid)/\(file)"
            let fd = try FileDescriptor.open(path, O_WRONLY)
            try fd.writeAll(Array(text.utf8), path: path)
        }
        try put("setgroups", "deny")
        try put("uid_map", mapping.uids.map { "\($0)\n" }.joined())
        try put("gid_map", mapping.gids.map { "\($0)\n" }.joined())
    }

    /// Both helpers run at once: each is a setuid exec, and start-up time is the product.
    static func writeWithHelpers(_ mapping: UserNamespaceMapping, pid: Int32) throws {
        let helpers = try HelperPrograms.locate()
        func arguments(_ entries: [UserNamespaceMapping.Entry]) -> [String] {
            [String(pid)] + entries.flatMap { [String($0.inside), String($0.outside), String($0.count)] }
        }
        let uidMap = try Subprocess(path: helpers.newuidmap, arguments: arguments(mapping.uids))
        let gidMap = try Subprocess(path: helpers.newgidmap, arguments: arguments(mapping.gids))
        let uidOutcome = try uidMap.wait()
        let gidOutcome = try gidMap.wait()
        for (name, outcome) in [("newuidmap", uidOutcome), ("newgidmap", gidOutcome)] where !outcome.succeeded {
            let detail = outcome.standardError.isEmpty ? "exit status \(outcome.status)" : outcome.standardError
            throw BurrowError.permissionDenied("\(name) refused the id map (\(detail)): check your entries in /etc/subuid and /etc/subgid, and that \(name) is setuid root")
        }
    }
}

/// newuidmap and newgidmap, found in $PATH as podman finds them.
public struct HelperPrograms: Sendable {
    public let newuidmap: String
    public let newgidmap: String

    public static func locate() throws -> HelperPrograms {
        guard let uid = Subprocess.find("newuidmap") else {
            throw BurrowError.unsupported("newuidmap is not in PATH but your subordinate ids need it: install the uidmap package (sudo apt install uidmap), or remove your entries from /etc/subuid and /etc/subgid to run with your own id only")
        }
        guard let gid = Subprocess.find("newgidmap") else {
            throw BurrowError.unsupported("newgidmap is not in PATH but your subordinate ids need it: install the uidmap package (sudo apt install uidmap)")
        }
        return HelperPrograms(newuidmap: uid, newgidmap: gid)
    }
}
