import BurrowArchive
import Testing

struct MemberPathTests {
    @Test(arguments: [
        ("a/b/c", "a/b/c"), ("./a/./b/", "a/b"), ("/abs/file", "abs/file"), ("a/../b", "b"),
        ("./", "."), ("/", "."), ("a//b", "a/b"), ("a/b/../../c", "c"),
    ])
    func cleans(raw: String, clean: String) throws {
        #expect(try MemberPath.clean(raw).description == clean)
    }

    @Test(arguments: ["../escape", "a/../../x", "/../x", "a/b/../../../c"])
    func refusesClimbingOut(raw: String) {
        #expect(throws: MemberPath.CleanError.climbsOut) { try MemberPath.clean(raw) }
    }

    @Test func keepsBytesThatAreNotUTF8() throws {
        let raw: [UInt8] = [0x61, 0x2f, 0xff, 0xfe]
        #expect(try MemberPath.clean(raw).components == [[0x61], [0xff, 0xfe]])
    }
}
