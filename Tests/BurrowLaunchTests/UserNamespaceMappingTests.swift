@testable import BurrowLaunch
import BurrowSystem
import Testing

struct UserNamespaceMappingTests {
    let alice = HostUser(uid: 1000, gid: 1000, name: "alice", home: "/home/alice")
    let range = [SubordinateRange(start: 100_000, count: 65536)]

    @Test func rootlessWithARange() throws {
        let mapping = try UserNamespaceMapping.make(mode: .rootless, user: alice, subUIDs: range, subGIDs: range)
        #expect(mapping.uids.map(\.description) == ["0 1000 1", "1 100000 65536"])
        #expect(mapping.needsHelpers)
        #expect(mapping.hostUID(0) == 1000 && mapping.hostUID(42) == 100_041 && mapping.hostUID(65537) == nil)
    }

    @Test func withoutARangeOnlyTheUserIsMapped() throws {
        let mapping = try UserNamespaceMapping.make(mode: .rootless, user: alice, subUIDs: [], subGIDs: [])
        #expect(mapping.uids.map(\.description) == ["0 1000 1"])
        #expect(!mapping.needsHelpers)
        let kept = try UserNamespaceMapping.make(mode: .keepID, user: alice, subUIDs: [], subGIDs: [])
        #expect(kept.uids.map(\.description) == ["1000 1000 1"])
    }

    /// keep-id trades two ids of the rootless layout and moves nothing else.
    @Test func keepIDSwapsTheUserAndRoot() throws {
        let mapping = try UserNamespaceMapping.make(mode: .keepID, user: alice, subUIDs: range, subGIDs: range)
        #expect(mapping.uids.map(\.description) == ["0 100999 1", "1 100000 999", "1000 1000 1", "1001 101000 64536"])
        let rootless = try UserNamespaceMapping.make(mode: .rootless, user: alice, subUIDs: range, subGIDs: range)
        for inside: UInt32 in [1, 2, 999, 1001, 5000, 65536] { #expect(mapping.hostUID(inside) == rootless.hostUID(inside)) }
        #expect(mapping.hostUID(1000) == 1000 && mapping.hostUID(0) == rootless.hostUID(1000))
    }

    @Test func severalRangesAreJoined() throws {
        let ranges = [SubordinateRange(start: 200_000, count: 30000), SubordinateRange(start: 500_000, count: 40000)]
        let mapping = try UserNamespaceMapping.make(mode: .rootless, user: alice, subUIDs: ranges, subGIDs: ranges)
        #expect(mapping.uids.map(\.description) == ["0 1000 1", "1 200000 30000", "30001 500000 40000"])
    }

    @Test func aSmallRangeIsRefused() {
        #expect(throws: UserNamespaceMapping.TooSmall(file: "/etc/subuid", available: 1000)) {
            try UserNamespaceMapping.make(mode: .rootless, user: alice, subUIDs: [SubordinateRange(start: 100_000, count: 1000)], subGIDs: range)
        }
    }

    @Test func subordinateFilesByNameOrUid() {
        let text = "# comment\nbob:1:2\nalice:100000:65536\n1000:300000:10\nbroken\n"
        #expect(SubordinateIDs.parse(text, user: alice) == [SubordinateRange(start: 100_000, count: 65536), SubordinateRange(start: 300_000, count: 10)])
        #expect(SubordinateIDs.freeStart(in: text, count: 65536) == 300_010)
    }
}
