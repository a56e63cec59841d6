/// A tar member's name, cleaned: no leading `/`, no `.` or empty components,
/// `..` applied. Names are kept as bytes, because a layer may hold file names
/// that are not UTF-8.
public struct MemberPath: Hashable, Sendable, CustomStringConvertible {
    public let components: [[UInt8]]

    public init(components: [[UInt8]]) { self.components = components }

    public enum CleanError: Error, Equatable {
        case climbsOut
        case empty
    }

    /// `a/../b` is `b`; `../x` or `a/../../x` climb above the root and are refused.
    public static func clean(_ raw: [UInt8]) throws(CleanError) -> MemberPath {
        var components: [[UInt8]] = []
        for part in raw.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if part.elementsEqual([46]) { continue }
            if part.elementsEqual([46, 46]) {
                if components.isEmpty { throw .climbsOut }
                components.removeLast()
                continue
            }
            components.append(Array(part))
        }
        return MemberPath(components: components)
    }

    public static func clean(_ text: String) throws(CleanError) -> MemberPath {
        try clean(Array(text.utf8))
    }

    public var isRoot: Bool { components.isEmpty }
    public var name: [UInt8] { components.last ?? [] }
    public var parent: MemberPath { MemberPath(components: Array(components.dropLast())) }

    public func appending(_ name: [UInt8]) -> MemberPath { MemberPath(components: components + [name]) }

    /// "a/b/c" as bytes, without a terminator; "." for the root.
    public var bytes: [UInt8] {
        if components.isEmpty { return [46] }
        var out: [UInt8] = []
        for (i, c) in components.enumerated() {
            if i > 0 { out.append(47) }
            out.append(contentsOf: c)
        }
        return out
    }

    /// Calls `body` with the path as a NUL-terminated C string.
    @discardableResult
    public func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var bytes = self.bytes
        bytes.append(0)
        return try bytes.withUnsafeBufferPointer { try $0.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) } }
    }

    public var description: String { String(decoding: bytes, as: UTF8.self) }
}

extension Array where Element == UInt8 {
    /// Calls `body` with these bytes as a NUL-terminated C string.
    @discardableResult
    public func withCName<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var bytes = self
        bytes.append(0)
        return try bytes.withUnsafeBufferPointer { try $0.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) } }
    }
}
