import BurrowSystem
import Glibc

/// The flags' text read as the Docker CLI and daemon read it, with their
/// messages: docker/go-units for sizes and ulimits, the CLI's NanoCPUs for
/// --cpus, the daemon's checks for ranges and swap.
extension ResourceLimits {
    /// Docker's --ulimit names and the rlimits they set (RLIMIT_AS is left
    /// out, as Docker leaves it out).
    public static let ulimitResources: [(name: String, resource: UInt32)] = [
        ("core", 4), ("cpu", 0), ("data", 2), ("fsize", 1), ("locks", 10), ("memlock", 8), ("msgqueue", 12), ("nice", 13),
        ("nofile", 7), ("nproc", 6), ("rss", 5), ("rtprio", 14), ("rttime", 15), ("sigpending", 11), ("stack", 3),
    ]

    /// Docker refuses less memory than this.
    public static let minimumMemory: Int64 = 6 * 1024 * 1024

    /// Reads the flags of `burrow run`; nil or "" is a flag not given.
    /// `cpuCount` bounds --cpus; `hardLimit` is this process's own hard
    /// limit of an rlimit, which no container can raise. Throws
    /// BurrowError.invalidArgument with Docker's message, or ours where
    /// Docker has none.
    public static func parse(memory: String? = nil, memorySwap: String? = nil, cpus: String? = nil, cpuShares: String? = nil,
                             cpusetCPUs: String? = nil, pidsLimit: String? = nil, ulimits: [String] = [],
                             cpuCount: Int = ResourceLimits.onlineCPUs,
                             hardLimit: (UInt32) -> UInt64 = ResourceLimits.callerHardLimit) throws -> ResourceLimits {
        var limits = ResourceLimits()
        if let text = given(memory) {
            let bytes = try flag("-m, --memory", text) { try size(text) }
            if bytes != 0 {
                guard bytes >= minimumMemory else { throw BurrowError.invalidArgument("Minimum memory limit allowed is 6MB") }
                limits.memory = bytes
            }
        }
        if let text = given(memorySwap) {
            // -1 is unlimited swap; 0 leaves Docker's default.
            let total: Int64 = text == "-1" ? -1 : try flag("--memory-swap", text) { try size(text) }
            if total > 0 {
                guard let memory = limits.memory else {
                    throw BurrowError.invalidArgument("You should always set the Memory limit when using Memoryswap limit, see usage")
                }
                guard total >= memory else {
                    throw BurrowError.invalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage")
                }
                limits.memorySwap = .total(total)
            } else if total == -1, limits.memory != nil {
                limits.memorySwap = .unlimited
            }
        }
        if let text = given(cpus) {
            let nanos = try flag("--cpus", text) { try nanoCPUs(text) }
            if nanos != 0 {
                // Below 0.01 the quota would be under the kernel's 1 ms minimum.
                guard nanos >= 10_000_000, nanos <= Int64(cpuCount) * 1_000_000_000 else {
                    throw BurrowError.invalidArgument("Range of CPUs is from 0.01 to \(cpuCount).00, as there are only \(cpuCount) CPUs available")
                }
                limits.nanoCPUs = nanos
            }
        }
        if let text = given(cpuShares) {
            let shares = try flag("-c, --cpu-shares", text) { try integer(text) }
            if shares < 0 {
                throw BurrowError.invalidArgument("invalid argument \"\(text)\" for \"-c, --cpu-shares\" flag: shares are a positive number (1024 is the default)")
            }
            if shares > 0 { limits.cpuShares = shares }
        }
        if let text = given(cpusetCPUs) {
            guard cpuList(text) != nil else { throw BurrowError.invalidArgument("Invalid value \(text) for cpuset cpus") }
            limits.cpusetCPUs = text
        }
        if let text = given(pidsLimit) {
            let count = try flag("--pids-limit", text) { try integer(text) }
            // 0 and -1 are "unlimited", as in Docker.
            if count > 0 { limits.pidsLimit = count }
        }
        for text in ulimits {
            let ulimit = try flag("--ulimit", text) { try parseUlimit(text) }
            let own = hardLimit(ulimit.resource)
            guard ulimit.hard <= own else {
                throw BurrowError.invalidArgument("--ulimit \(text): the \(ulimit.name) hard limit \(describe(ulimit.hard)) is above your own (\(describe(own))), and a container cannot raise it: ask for \(describe(own)) or less")
            }
            if let index = limits.ulimits.firstIndex(where: { $0.name == ulimit.name }) {
                limits.ulimits[index] = ulimit
            } else {
                limits.ulimits.append(ulimit)
            }
        }
        return limits
    }

    /// The CPUs online, which Docker's --cpus may not exceed.
    public static var onlineCPUs: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// This process's hard limit of `resource`.
    public static func callerHardLimit(_ resource: UInt32) -> UInt64 {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(resource), &limit) == 0 else { return UInt64.max }
        return UInt64(limit.rlim_max)
    }

    /// The CPU numbers of a cpuset list such as "0-3,5"; nil when it is not one.
    public static func cpuList(_ text: String) -> Set<Int>? {
        var cpus = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isDigit09) }),
                  let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]), low <= high, high < 65536 else { return nil }
            cpus.formUnion(low...high)
        }
        return cpus
    }

    // MARK: - Docker's parsers

    /// A failure of one flag's value, worded as Docker's CLI words it.
    struct Reason: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    static func given(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    static func flag<T>(_ label: String, _ value: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let reason as Reason {
            throw BurrowError.invalidArgument("invalid argument \"\(value)\" for \"\(label)\" flag: \(reason.text)")
        }
    }

    /// docker/go-units RAMInBytes: a number, maybe with a fraction, then
    /// maybe a space and one of k, m, g, t, p (powers of 1024), with an
    /// optional "b" or "ib"; any case. The fraction of a byte is dropped.
    static func size(_ text: String) throws(Reason) -> Int64 {
        let characters = Array(text)
        guard let separator = characters.lastIndex(where: { $0.isDigit09 || $0 == "." || $0 == " " }) else {
            throw Reason("invalid size: '\(text)'")
        }
        let number = String(characters[..<(characters[separator] == " " ? separator : separator + 1)])
        var suffix = String(characters[(separator + 1)...])
        guard let value = Double(number) else { throw Reason("strconv.ParseFloat: parsing \"\(number)\": invalid syntax") }
        guard value >= 0, value.isFinite else { throw Reason("invalid size: '\(text)'") }
        var multiplier: Double = 1
        if !suffix.isEmpty {
            guard suffix.count <= 3 else { throw Reason("invalid suffix: '\(suffix)'") }
            suffix = suffix.lowercased()
            let units: [Character: Double] = ["k": 0x400, "m": 0x10_0000, "g": 0x4000_0000, "t": 0x100_0000_0000, "p": 0x4_0000_0000_0000]
            if suffix.first == "b" {
                guard suffix.count == 1 else { throw Reason("invalid suffix: '\(suffix)'") }
            } else if let unit = units[suffix.first!] {
                guard suffix.count == 1 || suffix.dropFirst() == "b" || suffix.dropFirst() == "ib" else {
                    throw Reason("invalid suffix: '\(suffix)'")
                }
                multiplier = unit
            } else {
                throw Reason("invalid suffix: '\(suffix)'")
            }
        }
        let bytes = value * multiplier
        guard bytes < 0x1p63 else { throw Reason("invalid size: '\(text)'") }
        return Int64(bytes)
    }

    /// strconv.ParseInt(text, 10, 64), with its messages.
    static func integer(_ text: String) throws(Reason) -> Int64 {
        if let value = Int64(text) { return value }
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        if !digits.isEmpty && digits.allSatisfy(\.isDigit09) {
            throw Reason("strconv.ParseInt: parsing \"\(text)\": value out of range")
        }
        throw Reason("strconv.ParseInt: parsing \"\(text)\": invalid syntax")
    }

    /// Docker's NanoCPUs: a rational number ("1.5", "3/2", "15e-1") times
    /// 10^9, which must come out whole.
    static func nanoCPUs(_ text: String) throws(Reason) -> Int64 {
        let unparsable = Reason("failed to parse \(text) as a rational number")
        let tooPrecise = Reason("value is too precise")
        // Beyond any machine's CPUs: the range check reports it.
        let huge = Int64.max
        var rest = Substring(text)
        var negative = false
        if rest.first == "-" || rest.first == "+" {
            negative = rest.first == "-"
            rest = rest.dropFirst()
        }
        if let slash = rest.firstIndex(of: "/") {
            let numerator = rest[..<slash], denominator = rest[rest.index(after: slash)...]
            guard !numerator.isEmpty, numerator.allSatisfy(\.isDigit09), !denominator.isEmpty, denominator.allSatisfy(\.isDigit09),
                  let d = Int64(denominator), d != 0 else { throw unparsable }
            guard let n = Int64(numerator) else { return negative ? -huge : huge }
            let (scaled, overflow) = n.multipliedReportingOverflow(by: 1_000_000_000)
            if overflow { return negative ? -huge : huge }
            guard scaled % d == 0 else { throw tooPrecise }
            return negative ? -(scaled / d) : scaled / d
        }
        var mantissa = Substring(rest)
        var exponent = 0
        if let e = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = rest[..<e]
            guard let value = Int(rest[rest.index(after: e)...]), abs(value) < 1000 else { throw unparsable }
            exponent = value
        }
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), whole.allSatisfy(\.isDigit09), fraction.allSatisfy(\.isDigit09) else {
            throw unparsable
        }
        // digits × 10^(9 + exponent − fraction digits)
        var digits = Array((whole + fraction).drop { $0 == "0" })
        var scale = 9 + exponent - fraction.count
        while scale < 0, digits.last == "0" {
            digits.removeLast()
            scale += 1
        }
        if digits.isEmpty { return 0 }
        guard scale >= 0 else { throw tooPrecise }
        guard digits.count + scale <= 18, let value = Int64(String(digits) + String(repeating: "0", count: scale)) else {
            return negative ? -huge : huge
        }
        return negative ? -value : value
    }

    /// docker/go-units ParseUlimit: NAME=SOFT[:HARD], HARD defaulting to
    /// SOFT, -1 for unlimited.
    static func parseUlimit(_ text: String) throws(Reason) -> Ulimit {
        guard let equals = text.firstIndex(of: "=") else { throw Reason("invalid ulimit argument: \(text)") }
        let name = String(text[..<equals]), values = String(text[text.index(after: equals)...])
        guard let resource = ulimitResources.first(where: { $0.name == name })?.resource else {
            throw Reason("invalid ulimit type: \(name)")
        }
        let numbers = values.split(separator: ":", omittingEmptySubsequences: false)
        guard numbers.count <= 2 else {
            throw Reason("too many limit value arguments - \(values), can only have up to two, `soft[:hard]`")
        }
        let hard = try integer(String(numbers[numbers.count - 1]))
        let soft = try integer(String(numbers[0]))
        for value in [soft, hard] where value < -1 {
            throw Reason("\(value) is not a limit: give a number of 0 or more, or -1 for unlimited")
        }
        let softLimit = soft == -1 ? UInt64.max : UInt64(soft), hardLimit = hard == -1 ? UInt64.max : UInt64(hard)
        guard softLimit <= hardLimit else {
            throw Reason("ulimit soft limit must be less than or equal to hard limit: \(soft) > \(hard)")
        }
        return Ulimit(name: name, resource: resource, soft: softLimit, hard: hardLimit)
    }

    static func describe(_ limit: UInt64) -> String { limit == UInt64.max ? "unlimited" : String(limit) }
}

private extension Character {
    /// 0 to 9 only: Character.isNumber takes every script's digits.
    var isDigit09: Bool { isASCII && isNumber }
}
