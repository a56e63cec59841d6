import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// What the host allows, and the errors when it does not.
extension Integration {
@Suite struct EnvironmentTests {
    @Test(arguments: TestUser.all)
    func infoDescribesTheUserAndTheStore(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let text = try runner.burrow("info")
        #expect(text.code == 0)
        #expect(text.out.contains("driver: overlay"), "\(text)")
        #expect(text.out.contains("root: \(runner.store)"))
        let json = try runner.burrow("info", "--format", "json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: [String: String]])
        #expect(object["user"]?["uid"] == String(user.uid))
        #expect(object["user namespaces"]?["uid map"]?.hasPrefix("0 \(user.uid) 1") == true)
        #expect(object["storage"]?["overlay in a user namespace"] == "yes")
        #expect(object["user"]?["subuid ranges"] == (user.kind == .single ? "none" : object["user"]?["subuid ranges"]))
    }

    @Test(arguments: TestUser.all)
    func userNamespacesDisabledIsNamed(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let result = try runner.run("/usr/bin/unshare", ["-Ur", "/bin/sh", "-c",
            "echo 0 > /proc/sys/user/max_user_namespaces && exec \(Runner.binary) run --rm busybox true"])
        #expect(result.code == 125, "\(result)")
        #expect(result.err.contains("user.max_user_namespaces"), "\(result)")
    }

    /// BC-27: where the kernel refuses a new procfs (the host's /proc has a
    /// covered path, as inside another container), the host's is bound
    /// instead, recursively, with a warning; nothing it hides is uncovered.
    @Test(.enabled(if: getuid() == 0, "covering a path of the host's /proc takes root"), arguments: TestUser.all)
    func aCoveredProcFallsBackToTheHostsWithAWarning(user: TestUser) throws {
        let runner = try Runner.shared(user)
        let inner = runner.process(Runner.binary, ["run", "--rm", "busybox", "sh", "-c", "cat /proc/keys | wc -c; test \"$(cat /proc/1/comm)\" != sh && echo host-pids"])
        let command = ([inner.executableURL!.path] + (inner.arguments ?? [])).map { "'\($0)'" }.joined(separator: " ")
        let result = try Runner(user: user, store: runner.store).run("/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/sh", "-c",
            "mount --bind /dev/null /proc/keys && exec \(command)"], asRoot: true)
        #expect(result.code == 0, "\(result)")
        #expect(result.err.contains("the kernel refused a new /proc"), "\(result)")
        #expect(result.out == "0\nhost-pids\n", "the covered path must stay covered: \(result)")
    }

    @Test func missingNewuidmapIsNamed() throws {
        let user = try #require(TestUser.first(.subordinate), "needs a user with a subordinate range")
        let runner = try Runner.shared(user)
        let result = try runner.burrow("run", "--rm", "busybox", "true", env: ["PATH": "/nonexistent"])
        #expect(result.code == 125 && result.err.contains("newuidmap") && result.err.contains("uidmap"), "\(result)")
        #expect(runner.storeListing == (try Runner.shared(user).storeListing))
    }

    @Test func aUserWithoutRangeNeedsNoHelper() throws {
        let user = try #require(TestUser.first(.single), "needs a user without subordinate ids")
        let result = try Runner.shared(user).burrow("run", "--rm", "busybox", "true", env: ["PATH": "/nonexistent"])
        #expect(result.code == 0, "\(result)")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["BURROW_TEST_SMALL_RANGE_USER"] != nil,
                   "set BURROW_TEST_SMALL_RANGE_USER to a user with a range of fewer than 65536 ids (scripts/test.sh does)"))
    func aSmallRangeSaysWhatToAdd() throws {
        let name = ProcessInfo.processInfo.environment["BURROW_TEST_SMALL_RANGE_USER"]!
        let user = try #require(TestUser.lookup(name, kind: .subordinate))
        let runner = try Runner.fresh(user, tag: "small")
        let result = try runner.burrow("load", "-i", "\(Runner.images)/busybox.oci.tar")
        #expect(result.code == 125, "\(result)")
        #expect(result.err.contains("at least 65536") && result.err.contains("\(name):"), "\(result)")
    }

    /// BC-29: a 0700 home with the store in it, and keep-id.
    @Test(arguments: TestUser.all)
    func keepIDWithAPrivateHome(user: TestUser) throws {
        let runner = Runner(user: user, store: "")
        #expect(try runner.sh("chmod 700 \"$HOME\" && stat -c %a \"$HOME\"").out == "700\n")
        #expect(try runner.burrow("load", "-q", "-i", "\(Runner.images)/busybox.oci.tar").code == 0)
        let result = try runner.burrow("run", "--rm", "--userns=keep-id", "busybox", "id", "-u")
        #expect(result.code == 0 && result.out == "\(user.uid)\n", "\(result)")
        #expect(try runner.sh("stat -c %a \"$HOME\"").out == "700\n")
        _ = try runner.burrow("rmi", "busybox")
    }
}
}
