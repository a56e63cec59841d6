import BurrowSystem

/// A template that cannot be parsed or executed. The offset is a byte offset
/// into the template; the evaluator fills it in for errors raised by a
/// function, which does not know where it was called from.
struct TemplateError: Error, Equatable {
    var message: String
    var offset: Int?

    init(_ message: String, at offset: Int? = nil) {
        self.message = message
        self.offset = offset
    }

    func located(at offset: Int) -> TemplateError {
        self.offset == nil ? TemplateError(message, at: offset) : self
    }

    /// "template: 1:3: function \"foo\" is not defined", with a 1-based line and column.
    func burrowError(in source: String) -> BurrowError {
        guard let offset else { return .invalidArgument("template: \(message)") }
        let before = source.utf8.prefix(offset)
        let line = before.count { $0 == UInt8(ascii: "\n") } + 1
        let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { before.index(after: $0) } ?? before.startIndex
        let column = String(decoding: before[lineStart...], as: UTF8.self).count + 1
        return .invalidArgument("template: \(line):\(column): \(message)")
    }
}
