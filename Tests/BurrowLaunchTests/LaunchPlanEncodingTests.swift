@testable import BurrowLaunch
import Testing

struct LaunchPlanEncodingTests {
    func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }

    func string(_ bytes: [UInt8], _ stringsOffset: Int, _ offset: UInt32) -> String {
        let start = stringsOffset + Int(offset)
        return String(decoding: bytes[start...].prefix { $0 != 0 }, as: UTF8.self)
    }

    static func samplePlan() -> LaunchPlan {
        var plan = LaunchPlan(namespaces: [.user, .mount, .pid])
        plan.add(.makePrivate, "make private")
        plan.add(.mount(source: "proc", target: "/proc", type: "proc", data: nil, flags: [.noSetuid, .noExec],
                        inRoot: true, create: .directory, optional: false, readOnly: false, recursive: false), "mount proc on /proc")
        plan.add(.pivotRoot, "pivot")
        var process = LaunchPlan.Process(arguments: ["/bin/sh", "-c", "true"], environment: ["PATH=/bin"])
        process.workingDirectory = "/"
        process.user = (1000, 100)
        process.groups = [10, 20]
        plan.process = process
        plan.stdinFromNull = true
        return plan
    }

    @Test func headerAndTablesAreWhereTheExecutorReadsThem() {
        let bytes = LaunchPlanEncodingTests.samplePlan().encoded()
        #expect(bytes.count % 8 == 0)
        #expect(u32(bytes, 0) == 0x5752_5242)
        #expect(u32(bytes, 4) == 2)
        #expect(Int(u32(bytes, 8)) == bytes.count)
        // exec, stdin from /dev/null, death signal, close fds, set groups, set ids
        #expect(u32(bytes, 12) == 0x1 | 0x2 | 0x80 | 0x100 | 0x10 | 0x20)
        #expect(u32(bytes, 16) == 0x1000_0000 | 0x0002_0000 | 0x2000_0000)
        #expect(u32(bytes, 24) == 3)
        #expect(u32(bytes, 28) == 160)
        let stringsOffset = Int(u32(bytes, 32))
        #expect(u32(bytes, 40) == 1000 && u32(bytes, 44) == 100)
        #expect(u32(bytes, 48) == 2)
        let groupsOffset = Int(u32(bytes, 52))
        #expect(u32(bytes, groupsOffset) == 10 && u32(bytes, groupsOffset + 4) == 20)
        #expect(u32(bytes, 56) == 3)
        let argvOffset = Int(u32(bytes, 60))
        #expect((0..<3).map { string(bytes, stringsOffset, u32(bytes, argvOffset + 4 * $0)) } == ["/bin/sh", "-c", "true"])
        #expect(string(bytes, stringsOffset, u32(bytes, 72)) == "/")
        // The mount step: op 3, flags in root + create directory, args, MS_NOSUID|MS_NOEXEC.
        let step = 160 + 32
        #expect(u32(bytes, step) == 3)
        #expect(u32(bytes, step + 4) == 0x1 | 0x2)
        #expect(string(bytes, stringsOffset, u32(bytes, step + 8)) == "proc")
        #expect(string(bytes, stringsOffset, u32(bytes, step + 12)) == "/proc")
        #expect(u32(bytes, step + 20) == 0)
        #expect(u32(bytes, step + 24) == 2 | 8)
    }

    /// Streams, the terminal and joined namespaces: where the executor reads them.
    @Test func streamsConsoleAndJoinedNamespaces() {
        var plan = LaunchPlanEncodingTests.samplePlan()
        let plain = plan.encoded()
        #expect((0..<4).map { u32(plain, 136 + 4 * $0) } == [UInt32.max, UInt32.max, UInt32.max, UInt32.max])
        plan.standardStreams = [5, 6, 7]
        plan.console = LaunchPlan.Console(socket: 9, rows: 50, columns: 200)
        plan.steps = [LaunchPlan.Step(.joinNamespace(descriptor: 11, type: .mount), label: "join mnt")]
        let bytes = plan.encoded()
        #expect((0..<4).map { u32(bytes, 136 + 4 * $0) } == [5, 6, 7, 9])
        #expect(u32(bytes, 152) == 50 | 200 << 16)
        // op 16, the descriptor and CLONE_NEWNS as numbers.
        #expect(u32(bytes, 160) == 16 && u32(bytes, 168) == 11 && u32(bytes, 172) == 0x0002_0000)
    }

    /// The exact bytes of a small plan: a change to the layout must be a
    /// deliberate change to this test and to burrow_launch.h together.
    @Test func goldenBytes() {
        let bytes = LaunchPlanEncodingTests.samplePlan().encoded()
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        #expect(hex.hasPrefix("425252570200000040010000b3010000000002300000000003000000a0000000"))
        #expect(SHA.digestOf(bytes) == LaunchPlanEncodingTests.golden)
    }

    static let golden = "ed73322b6561ff2c"

    /// Op 17 (BURROW_OP_REMOUNT_RO): a path in root, nothing else.
    @Test func remountReadOnlyInPlace() {
        var plan = LaunchPlan(namespaces: [.user, .mount])
        plan.add(.remountReadOnly("/etc/hosts"), "make /etc/hosts read-only")
        plan.add(.remountRootReadOnly, "make the root filesystem read-only")
        let bytes = plan.encoded()
        let stringsOffset = Int(u32(bytes, 32))
        #expect(u32(bytes, 24) == 2)
        #expect(u32(bytes, 160) == 17 && u32(bytes, 160 + 4) == 0)
        #expect(string(bytes, stringsOffset, u32(bytes, 160 + 8)) == "/etc/hosts")
        #expect((1..<4).allSatisfy { u32(bytes, 160 + 8 + 4 * $0) == 0 } && u32(bytes, 160 + 24) == 0)
        #expect(u32(bytes, 160 + 32) == 12)
    }
}

/// A tiny FNV-1a over the bytes: enough to pin a golden value in a test.
enum SHA {
    static func digestOf(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
