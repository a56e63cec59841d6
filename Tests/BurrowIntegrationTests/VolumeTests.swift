import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// `burrow volume` as each kind of unprivileged user: the commands, the
/// refusal to remove a volume a container uses, prune, and copy-up.
/// Containers that use a volume are records written the way the run path
/// writes them (what `volume rm` reads), so these tests do not depend on
/// how a container comes to exist.
extension Integration {
@Suite struct VolumeTests {
    static func hexName() -> String {
        (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// A stopped container whose record mounts `volumes`, with a name.
    @discardableResult
    static func container(_ runner: Runner, name: String, volumes: [String]) throws -> String {
        let id = hexName()
        let mounts = volumes.map {
            "{\"type\":\"volume\",\"source\":\"\(runner.store)/volumes/\($0)/_data\",\"target\":\"/v/\($0)\",\"readOnly\":false,\"volume\":\"\($0)\"}"
        }
        let record = """
        {"id":"\(id)","name":"\(name)","imageID":"sha256:\(String(repeating: "a", count: 64))","imageName":"busybox","layers":[],\
        "command":["true"],"created":"2026-01-01T00:00:00Z","state":"exited","pid":null,"exitCode":0,"finished":"2026-01-01T00:00:01Z",\
        "driver":"overlay","autoRemove":false,"mounts":[\(mounts.joined(separator: ","))]}
        """
        let file = Fixtures.temporaryDirectory("burrow-it-archive") + "/container.json"
        chmod((file as NSString).deletingLastPathComponent, 0o755)
        FileManager.default.createFile(atPath: file, contents: Data(record.utf8), attributes: [.posixPermissions: 0o644])
        let made = try runner.sh("mkdir -p '\(runner.store)/containers/\(id)' '\(runner.store)/names' && cp '\(file)' '\(runner.store)/containers/\(id)/container.json' && ln -s \(id) '\(runner.store)/names/\(name)'")
        precondition(made.code == 0, "cannot write the record of \(name): \(made)")
        return id
    }

    /// The host id behind id `inside` of the user's standard mapping.
    static func hostID(_ user: TestUser, _ inside: UInt32, file: String) -> UInt32 {
        if inside == 0 || user.kind == .single { return file == "/etc/subuid" ? user.uid : user.gid }
        let line = ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").first { $0.hasPrefix("\(user.name):") }
        let start = line.flatMap { UInt32($0.split(separator: ":")[1]) } ?? 0
        return start + inside - 1
    }

    @Test(arguments: TestUser.all)
    func createListInspectRemove(user: TestUser) throws {
        let runner = try Runner.fresh(user, tag: "volumes")
        #expect(try runner.burrow("volume", "ls").out == "DRIVER    VOLUME NAME\n")
        let created = try runner.burrow("volume", "create", "--label", "a=1", "--label", "b", "data")
        #expect(created.code == 0 && created.out == "data\n", "\(created)")
        #expect(try runner.burrow("volume", "create", "data").out == "data\n", "creating it again returns the volume there is, as Docker")
        let unnamed = try runner.burrow("volume", "create")
        let random = unnamed.out.trimmingCharacters(in: .newlines)
        #expect(unnamed.code == 0 && random.count == 64, "\(unnamed)")
        let bad = try runner.burrow("volume", "create", "bad name")
        #expect(bad.code == 125 && bad.err.contains("\"bad name\" includes invalid characters") && bad.err.split(separator: "\n").count == 1, "\(bad)")

        let listed = try runner.burrow("volume", "ls")
        #expect(listed.lines == ["DRIVER    VOLUME NAME"] + [random, "data"].sorted().map { "local     \($0)" }, "\(listed)")
        #expect(try runner.burrow("volume", "ls", "-q", "--filter", "label=a=1").lines == ["data"])
        #expect(try runner.burrow("volume", "list", "--format", "{{.Name}} {{.Labels}} {{.Scope}}", "--filter", "name=dat").lines == ["data a=1,b= local"])
        let json = try runner.burrow("volume", "ls", "--format", "json", "--filter", "label=b")
        let row = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        #expect(row["Name"] as? String == "data" && row["Driver"] as? String == "local" && row["Mountpoint"] as? String == "\(runner.store)/volumes/data/_data")

        let inspected = try runner.burrow("volume", "inspect", "data")
        let documents = try #require(try JSONSerialization.jsonObject(with: Data(inspected.out.utf8)) as? [[String: Any]], "\(inspected)")
        let document = try #require(documents.first)
        #expect(document["Name"] as? String == "data" && document["Driver"] as? String == "local" && document["Scope"] as? String == "local")
        #expect(document["Labels"] as? [String: String] == ["a": "1", "b": ""] && (document["Options"] as? [String: String])?.isEmpty == true)
        #expect(document["Mountpoint"] as? String == "\(runner.store)/volumes/data/_data" && (document["CreatedAt"] as? String)?.hasSuffix("Z") == true)
        #expect(inspected.out.hasPrefix("[\n    {\n        \"CreatedAt\": "), "Docker's layout and key order: \(inspected.out)")
        #expect(try runner.burrow("volume", "inspect", "-f", "{{.Mountpoint}}", "data").out == "\(runner.store)/volumes/data/_data\n")
        let partly = try runner.burrow("volume", "inspect", "data", "nosuch")
        #expect(partly.code == 125 && partly.out.contains("\"Name\": \"data\"") && partly.err.contains("no such volume: nosuch"), "\(partly)")

        let missing = try runner.burrow("volume", "rm", "nosuch")
        #expect(missing.code == 125 && missing.err.contains("no such volume: nosuch"), "\(missing)")
        let forced = try runner.burrow("volume", "rm", "-f", "nosuch")
        #expect(forced.code == 0 && forced.out.isEmpty && forced.err.isEmpty, "\(forced)")
        let removed = try runner.burrow("volume", "rm", "data", random)
        #expect(removed.code == 0 && removed.lines == ["data", random], "\(removed)")
        #expect(try runner.burrow("volume", "ls", "-q").out.isEmpty)
        #expect(try runner.sh("ls -A '\(runner.store)/volumes' '\(runner.store)/tmp' | grep -v -e ':$' -e '^$' || true").out.isEmpty)
    }

    @Test(arguments: TestUser.all)
    func aVolumeInUseStaysUntilItsContainerGoes(user: TestUser) throws {
        let runner = try Runner.fresh(user, tag: "inuse")
        #expect(try runner.burrow("volume", "create", "pgdata").code == 0)
        let id = try VolumeTests.container(runner, name: "db", volumes: ["pgdata"])
        let refused = try runner.burrow("volume", "rm", "pgdata")
        #expect(refused.code == 125, "\(refused)")
        #expect(refused.err == "burrow: remove pgdata: volume is in use by container db (\(id.prefix(12))): remove that container first with 'burrow rm db'\n")
        let forced = try runner.burrow("volume", "rm", "-f", "pgdata")
        #expect(forced.code == 125 && forced.err.contains("in use by container db"), "-f does not remove a volume in use, as in Docker: \(forced)")
        #expect(try runner.burrow("volume", "ls", "-q", "--filter", "dangling=false").lines == ["pgdata"])
        #expect(try runner.burrow("volume", "ls", "-q", "--filter", "dangling=true").out.isEmpty)
        #expect(try runner.burrow("rm", "db").code == 0)
        let removed = try runner.burrow("volume", "rm", "pgdata")
        #expect(removed.code == 0 && removed.out == "pgdata\n", "\(removed)")
    }

    @Test(arguments: TestUser.all)
    func pruneTakesUnusedAnonymousVolumesOrAllWithAll(user: TestUser) throws {
        let runner = try Runner.fresh(user, tag: "prune")
        let anonymous = try runner.burrow("volume", "create", "--label", "com.docker.volume.anonymous=").out.trimmingCharacters(in: .newlines)
        let usedAnonymous = try runner.burrow("volume", "create", "--label", "com.docker.volume.anonymous=").out.trimmingCharacters(in: .newlines)
        #expect(try runner.burrow("volume", "create", "named").code == 0)
        #expect(try runner.burrow("volume", "create", "kept").code == 0)
        try VolumeTests.container(runner, name: "user", volumes: ["kept", usedAnonymous])
        try runner.sh("head -c 1500 /dev/zero > '\(runner.store)/volumes/\(anonymous)/_data/f'")

        let declined = try runner.burrow("volume", "prune", stdin: Array("n\n".utf8))
        #expect(declined.code == 0 && declined.out.hasPrefix("WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] "), "\(declined)")
        #expect(try runner.burrow("volume", "ls", "-q").lines.count == 4)

        let pruned = try runner.burrow("volume", "prune", stdin: Array("y\n".utf8))
        #expect(pruned.code == 0 && pruned.out.hasSuffix("Deleted Volumes:\n\(anonymous)\n\nTotal reclaimed space: 1.5kB\n"), "\(pruned)")
        #expect(try runner.burrow("volume", "ls", "-q").lines == [usedAnonymous, "kept", "named"].sorted())

        let all = try runner.burrow("volume", "prune", "--all", "--force")
        #expect(all.code == 0 && all.out == "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n", "\(all)")
        #expect(try runner.burrow("volume", "prune", "-a", "-f").out == "Total reclaimed space: 0B\n")
        #expect(try runner.burrow("volume", "ls", "-q").lines == [usedAnonymous, "kept"].sorted())

        // rm -v: the container's anonymous volume goes with it, the named one stays.
        #expect(try runner.burrow("rm", "-v", "user").code == 0)
        #expect(try runner.burrow("volume", "ls", "-q").lines == ["kept"])
    }

    /// A new volume takes the image's files at its target, owners and modes
    /// included, once: a volume that holds anything is never filled again.
    @Test(arguments: TestUser.all)
    func copyUpFillsAnEmptyVolumeFromTheImage(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let layers = try runner.burrow("inspect", "--format", "{{range .RootFS.Layers}}{{.}} {{end}}", "python:3.9-slim").out
            .split(separator: " ").map(String.init).filter { $0.hasPrefix("sha256:") }
        #expect(!layers.isEmpty)
        let name = "mail-\(UUID().uuidString.prefix(6).lowercased())"
        #expect(try runner.burrow("volume", "create", name).code == 0)
        let filled = try runner.burrow(arguments: ["__storage", "copy-up", name, "/var/mail"] + layers)
        #expect(filled.code == 0, "\(filled)")
        let data = "\(runner.store)/volumes/\(name)/_data"
        var st = stat()
        #expect(stat(data, &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o2775 && st.st_uid == user.uid && st.st_gid == VolumeTests.hostID(user, 8, file: "/etc/subgid"),
                "the image's /var/mail is root:mail 2775: \(st.st_uid):\(st.st_gid) \(String(st.st_mode & 0o7777, radix: 8))")

        let etc = "etc-\(UUID().uuidString.prefix(6).lowercased())"
        #expect(try runner.burrow("volume", "create", etc).code == 0)
        #expect(try runner.burrow(arguments: ["__storage", "copy-up", etc, "/etc"] + layers).code == 0)
        let etcData = "\(runner.store)/volumes/\(etc)/_data"
        #expect(stat(etcData + "/gshadow", &st) == 0 && st.st_gid == VolumeTests.hostID(user, 42, file: "/etc/subgid") && st.st_mode & 0o777 == 0o640)
        #expect(FileManager.default.fileExists(atPath: etcData + "/debian_version"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: etcData + "/os-release") == "../usr/lib/os-release", "symlinks copied as they are")
        // Not empty any more: a second copy-up leaves it as it is.
        try runner.sh("rm -f '\(etcData)/passwd' && echo mine > '\(etcData)/marker'")
        #expect(try runner.burrow(arguments: ["__storage", "copy-up", etc, "/etc"] + layers).code == 0)
        #expect(!FileManager.default.fileExists(atPath: etcData + "/passwd"))

        // Files of subordinate ids go too.
        let removed = try runner.burrow("volume", "rm", name, etc)
        #expect(removed.code == 0, "\(removed)")
        #expect(!FileManager.default.fileExists(atPath: etcData))
        // (The shared store's tmp/ may hold a --rm container another test's cleaner is still deleting.)
        #expect(try runner.sh("ls -A '\(runner.store)/tmp' | grep volume || true").out.isEmpty)
    }
}
}
