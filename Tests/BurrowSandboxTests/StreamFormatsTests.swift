@testable import BurrowSandbox
import BurrowStore
import BurrowSystem
import Testing

/// The pure parts of attaching and logging: detach keys, signal names, and
/// the log's records as the monitor writes them (burrow_monitor.h).
struct StreamFormatsTests {
    @Test(arguments: [
        ("ctrl-p,ctrl-q", [UInt8(0x10), 0x11]), ("a,b", [97, 98]), ("ctrl-@,ctrl-[,ctrl-_", [0, 27, 31]), ("", []),
        ("CTRL-a", [1]),
    ])
    func detachKeysAsDocker(text: String, keys: [UInt8]) throws {
        #expect(try DetachKeys.parse(text) == keys)
    }

    @Test(arguments: ["ctrl-", "ctrl-1", "ab", "ctrl-p,", "shift-a"])
    func badDetachKeysAreNamed(text: String) {
        #expect(throws: DetachKeys.Invalid(text: text)) { try DetachKeys.parse(text) }
    }

    @Test(arguments: [("SIGTERM", Int32(15)), ("term", 15), ("9", 9), ("KILL", 9), ("SIGRTMIN", 34), ("SIGRTMIN+3", 37), ("RTMAX-1", 63),
                      ("SIGWINCH", 28)])
    func signalNames(text: String, number: Int32) {
        #expect(SignalNames.number(text) == number)
    }

    @Test(arguments: ["SIGNOPE", "0", "65", "RTMIN+40", "RTMIN-1", ""])
    func unknownSignals(text: String) {
        #expect(SignalNames.number(text) == nil)
    }

    static func record(_ stream: UInt8, _ text: String, partial: Bool = false, at nanoseconds: UInt64 = 1_700_000_000_123_456_789) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: nanoseconds.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian) { bytes += $0 }
        bytes += [stream, partial ? 1 : 0, 0, 0]
        return bytes + Array(text.utf8)
    }

    @Test func recordsAreReadWholeOnly() {
        let data = Self.record(1, "one\n") + Self.record(2, "two\n") + Array(Self.record(1, "half").prefix(18))
        let (records, consumed) = ContainerLog.records(data)
        #expect(records.map { String(decoding: $0.bytes, as: UTF8.self) } == ["one\n", "two\n"])
        #expect(records.map(\.stream) == [1, 2])
        #expect(consumed == 40)
    }

    /// A line's parts stay together when the other stream comes between them.
    @Test func tailCountsLinesPerStream() {
        let data = Self.record(1, "one\n") + Self.record(1, "three", partial: true) + Self.record(2, "two\n")
            + Self.record(1, " and more\n") + Self.record(1, "four\n")
        let records = ContainerLog.records(data).records
        func text(_ lines: Int) -> [String] { ContainerLog.tail(records, lines: lines).map { String(decoding: $0.bytes, as: UTF8.self) } }
        #expect(text(2) == ["three", " and more\n", "four\n"])
        #expect(text(3) == ["three", "two\n", " and more\n", "four\n"])
        #expect(text(0).isEmpty)
        #expect(text(10).count == 5)
    }

    @Test func timestampsBeginLinesOnly() {
        let records = ContainerLog.records(Self.record(1, "a", partial: true) + Self.record(1, "b\n")).records
        #expect(String(decoding: ContainerLog.text(records[0], timestamps: true, lineStart: true), as: UTF8.self)
                == "2023-11-14T22:13:20.123456789Z a")
        #expect(String(decoding: ContainerLog.text(records[1], timestamps: true, lineStart: false), as: UTF8.self) == "b\n")
    }
}

extension StreamFormatsTests {
    /// stop's signal: the option, else the image's StopSignal, else SIGTERM.
    @Test func stopSignalAsDocker() throws {
        #expect(try ContainerStopper.signal(nil, option: nil) == 15)
        #expect(try ContainerStopper.signal(nil, option: "SIGINT") == 2)
        #expect(throws: (any Error).self) { try ContainerStopper.signal(nil, option: "SIGNOPE") }
    }
}
