import BurrowSystem
import BurrowTransport
import Glibc

/// Docker's pull and push display: one line per layer, redrawn in place
/// while several download at once (a single progress line would flicker
/// between them). Nothing in a pipe or with -q: the commands print one
/// line per layer there instead.
final class LayerBoard: LoadProgress {
    private var order: [String] = []
    private var states: [String: String] = [:]
    private var totals: [String: Int64] = [:]
    private var downloaded: Set<String> = []
    private var startTimes: [String: Double] = [:]
    private var drawnLines = 0
    private var lastDraw: timespec = timespec()
    private let enabled: Bool
    private let verb: String

    init(quiet: Bool, verb: String = "Downloading") {
        enabled = !quiet && isatty(2) == 1
        self.verb = verb
    }

    func started(_ item: String, total: Int64?) {
        guard enabled else { return }
        if states[item] == nil { order.append(item) }
        totals[item] = total
        startTimes[item] = LayerBoard.seconds()
        states[item] = downloaded.contains(item) ? "Extracting" : "Waiting"
        draw(force: true)
    }

    func advanced(_ item: String, done: Int64) {
        guard enabled else { return }
        let phase = downloaded.contains(item) ? "Extracting" : verb
        var text = phase
        if let total = totals[item], total > 0 {
            let width = 20
            let filled = Int(min(Int64(width), done * Int64(width) / total))
            text += " [" + String(repeating: "=", count: filled) + (filled < width ? ">" : "")
                + String(repeating: " ", count: max(0, width - filled - 1)) + "] \(HumanSize.format(done))/\(HumanSize.format(total))"
        } else {
            text += " \(HumanSize.format(done))"
        }
        if let start = startTimes[item], case let elapsed = LayerBoard.seconds() - start, elapsed > 0.5 {
            text += "  \(HumanSize.format(Int64(Double(done) / elapsed)))/s"
        }
        if states[item] == nil { order.append(item) }
        states[item] = text
        draw(force: false)
    }

    func finished(_ item: String, note: String) {
        guard enabled else { return }
        if note == "Download complete" { downloaded.insert(item) }
        if states[item] == nil { order.append(item) }
        states[item] = note == "Unpacked" ? "Pull complete" : note
        draw(force: true)
    }

    func warning(_ text: String) {
        if enabled {
            // Above the board, which is drawn again below it.
            write((drawnLines > 0 ? "\u{1b}[\(drawnLines)A" : "") + "\r\u{1b}[J")
            drawnLines = 0
        }
        write("burrow: warning: \(text)\n")
        if enabled { draw(force: true) }
    }

    private func draw(force: Bool) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let elapsed = (now.tv_sec - lastDraw.tv_sec) * 1000 + (now.tv_nsec - lastDraw.tv_nsec) / 1_000_000
        if !force && elapsed < 100 { return }
        lastDraw = now
        var text = drawnLines > 0 ? "\u{1b}[\(drawnLines)A" : ""
        let columns = LayerBoard.columns()
        for item in order {
            var line = "\(item): \(states[item] ?? "")"
            if line.count >= columns { line = String(line.prefix(columns - 1)) }
            text += "\r\u{1b}[2K" + line + "\n"
        }
        drawnLines = order.count
        write(text)
    }

    private static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    private static func columns() -> Int {
        var size = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 20 { return Int(size.ws_col) }
        return 80
    }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
