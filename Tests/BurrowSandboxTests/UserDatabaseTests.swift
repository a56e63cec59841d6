import BurrowSandbox
import Testing

struct UserDatabaseTests {
    let database = UserDatabase(
        passwd: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n# comment\n",
        group: "root:x:0:\nwheel:x:10:app,root\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n")

    @Test(arguments: [
        ("", 0, 0, "/root", [10] as [UInt32]),
        ("root", 0, 0, "/root", [10]),
        ("app", 1000, 1000, "/home/app", [10, 50]),
        ("1000", 1000, 1000, "/home/app", [10, 50]),
        ("app:staff", 1000, 50, "/home/app", [10, 50]),
        ("app:0", 1000, 0, "/home/app", [10, 50]),
        ("4321", 4321, 0, "/", []),
        ("4321:99", 4321, 99, "/", []),
        ("nobody", 65534, 65534, "/nonexistent", []),
    ] as [(String, UInt32, UInt32, String, [UInt32])])
    func resolvesAsDocker(spec: String, uid: UInt32, gid: UInt32, home: String, groups: [UInt32]) throws {
        let resolved = try database.resolve(spec)
        #expect(resolved.uid == uid)
        #expect(resolved.gid == gid)
        #expect(resolved.home == home)
        #expect(resolved.additionalGroups == groups)
    }

    @Test func unknownNamesAreErrors() {
        #expect(throws: UserDatabase.ResolveError.unknownUser("ghost")) { try database.resolve("ghost") }
        #expect(throws: UserDatabase.ResolveError.unknownGroup("ghosts")) { try database.resolve("app:ghosts") }
        #expect(throws: UserDatabase.ResolveError.invalid("app:")) { try database.resolve("app:") }
    }

    @Test func anImageWithoutPasswdStillRunsNumericUsers() throws {
        let empty = UserDatabase(passwd: nil, group: nil)
        #expect(try empty.resolve("").uid == 0)
        #expect(try empty.resolve("").home == "/")
        #expect(try empty.resolve("12:34").gid == 34)
        #expect(throws: UserDatabase.ResolveError.self) { try empty.resolve("root") }
    }
}
