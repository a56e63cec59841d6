/// Docker's --detach-keys: keys separated by commas, each a single
/// character or `ctrl-` and one of a-z @ [ \ ] ^ _. Empty: no detaching.
public enum DetachKeys {
    public static let standard = "ctrl-p,ctrl-q"
    /// The attach loop holds back at most this many keys (burrow_attach_run).
    public static let maximum = 32

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let text: String
        public var description: String {
            "invalid detach keys \"\(text)\": give keys such as ctrl-p,ctrl-q (a letter, or ctrl- and one of a-z @ [ \\ ] ^ _)"
        }
    }

    public static func parse(_ text: String) throws(Invalid) -> [UInt8] {
        if text.isEmpty { return [] }
        var keys: [UInt8] = []
        guard text.split(separator: ",", omittingEmptySubsequences: false).count <= maximum else { throw Invalid(text: text) }
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bytes = Array(part.utf8)
            if bytes.count == 1 {
                keys.append(bytes[0])
                continue
            }
            guard part.lowercased().hasPrefix("ctrl-"), bytes.count == 6 else { throw Invalid(text: text) }
            var key = bytes[5]
            if key >= 65 && key <= 90 { key += 32 }
            switch key {
            case 97...122: keys.append(key - 96)          // ctrl-a … ctrl-z
            case 64, 91, 92, 93, 94, 95: keys.append(key - 64) // ctrl-@ [ \ ] ^ _
            default: throw Invalid(text: text)
            }
        }
        return keys
    }
}
