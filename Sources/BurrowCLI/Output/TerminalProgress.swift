import BurrowSystem
import BurrowTransport
import Glibc

/// Progress bars on a terminal; nothing at all in a pipe or with --quiet.
final class TerminalProgress: LoadProgress {
    private var totals: [String: Int64] = [:]
    private var lastDraw: Int64 = 0
    private let enabled: Bool

    init(quiet: Bool) {
        enabled = !quiet && isatty(2) == 1
    }

    static func make(quiet: Bool) -> LoadProgress {
        TerminalProgress(quiet: quiet)
    }

    func started(_ item: String, total: Int64?) {
        totals[item] = total
        advanced(item, done: 0)
    }

    func advanced(_ item: String, done: Int64) {
        guard enabled else { return }
        let now = Int64(clock()) / Int64(CLOCKS_PER_SEC / 20)
        if done > 0 && now == lastDraw { return }
        lastDraw = now
        var line = "\(item): "
        if let total = totals[item], total > 0 {
            let width = 30
            let filled = Int(min(Int64(width), done * Int64(width) / total))
            line += "[" + String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1)) + "] "
            line += "\(HumanSize.format(done))/\(HumanSize.format(total))"
        } else {
            line += HumanSize.format(done)
        }
        write("\r\u{1b}[2K" + line)
    }

    func finished(_ item: String, note: String) {
        guard enabled else { return }
        write("\r\u{1b}[2K\(item): \(note)\n")
    }

    func warning(_ text: String) {
        if enabled { write("\r\u{1b}[2K") }
        write("burrow: warning: \(text)\n", always: true)
    }

    private func write(_ text: String, always: Bool = false) {
        guard enabled || always else { return }
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
