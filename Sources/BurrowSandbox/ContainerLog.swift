import BurrowStore
import BurrowSystem
import Glibc

/// A container's log as the monitor writes it (burrow_log_record: a 16-byte
/// header, then the bytes of one line or of a line's part), read back for
/// `logs`.
public struct ContainerLog {
    public struct Record: Equatable {
        public var nanoseconds: UInt64
        /// 1 standard output, 2 standard error.
        public var stream: UInt8
        /// false when the record ends with its line's newline.
        public var partial: Bool
        public var bytes: ArraySlice<UInt8>
    }

    static let headerSize = 16

    /// The whole records in `data`, and how many bytes they take (a record
    /// being written is left for later).
    public static func records(_ data: [UInt8]) -> (records: [Record], consumed: Int) {
        var records: [Record] = []
        var at = 0
        while data.count - at >= headerSize {
            func field<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
                var value: T = 0
                for i in 0..<MemoryLayout<T>.size { value |= T(data[at + offset + i]) << (8 * i) }
                return value
            }
            let length = Int(field(8, UInt32.self))
            guard data.count - at - headerSize >= length else { break }
            let start = at + headerSize
            records.append(Record(nanoseconds: field(0, UInt64.self), stream: data[at + 12], partial: data[at + 13] != 0,
                                  bytes: data[start..<(start + length)]))
            at = start + length
        }
        return (records, at)
    }

    /// The records that hold the last `lines` lines. A line is its
    /// stream's records up to the one that ends it: the other stream's
    /// lines may come between its parts, which stay together.
    public static func tail(_ records: [Record], lines: Int) -> [Record] {
        var finished: [[Int]] = []
        var open: [UInt8: [Int]] = [:]
        for (index, record) in records.enumerated() {
            open[record.stream, default: []].append(index)
            if !record.partial { finished.append(open.removeValue(forKey: record.stream)!) }
        }
        finished += open.values
        let kept = finished.sorted { $0.last! < $1.last! }.suffix(max(0, lines)).flatMap { $0 }.sorted()
        return kept.map { records[$0] }
    }

    /// What `logs` prints for a record; `lineStart` says whether it begins a line.
    public static func text(_ record: Record, timestamps: Bool, lineStart: Bool) -> [UInt8] {
        guard timestamps && lineStart else { return Array(record.bytes) }
        let seconds = Int64(record.nanoseconds / 1_000_000_000)
        let stamp = Timestamp.format(seconds: seconds, nanoseconds: Int(record.nanoseconds % 1_000_000_000), fraction: true)
        return Array((stamp + " ").utf8) + record.bytes
    }

    /// Prints the log of a container: the last `tail` lines (nil: all), then,
    /// with `follow`, what comes until the container has ended.
    public static func print(store: Store, id: String, tail tailLines: Int?, timestamps: Bool, follow: Bool) throws {
        let path = store.layout.containerLog(id)
        var fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 && errno != ENOENT { throw SystemError("open", path: path, errno: errno) }
        defer { if fd >= 0 { close(fd) } }
        var pending: [UInt8] = []
        var lineStart: [UInt8: Bool] = [1: true, 2: true]
        var first = true

        func drain() throws {
            guard fd >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw SystemError("read", path: path, errno: errno) }
                if n == 0 { break }
                pending += buffer[0..<n]
            }
            let (found, consumed) = Self.records(pending)
            pending.removeFirst(consumed)
            let shown = first && tailLines != nil ? Self.tail(found, lines: tailLines!) : found
            first = false
            for record in shown {
                let bytes = Self.text(record, timestamps: timestamps, lineStart: lineStart[record.stream] ?? true)
                lineStart[record.stream] = !record.partial
                try write(bytes, to: record.stream == 2 ? 2 : 1)
            }
        }

        try drain()
        guard follow else { return }
        while true {
            let running = (try? store.currentContainer(id))??.isRunning ?? false
            if fd < 0 { fd = open(path, O_RDONLY | O_CLOEXEC) }
            try drain()
            if !running { return }
            // The log grows in bursts; a tenth of a second is quick to a reader.
            usleep(100_000)
        }
    }

    private static func write(_ bytes: [UInt8], to fd: Int32) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw SystemError("write", errno: errno) }
            done += n
        }
    }
}
