import Glibc

/// os/architecture[/variant], as image indexes and `--platform` spell it.
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var variant: String?
    public var osVersion: String?

    public init(os: String, architecture: String, variant: String? = nil) {
        let normalized = Platform.normalize(architecture: architecture, variant: variant)
        self.os = os.lowercased()
        self.architecture = normalized.architecture
        self.variant = normalized.variant
    }

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
    }

    public var description: String {
        variant.map { "\(os)/\(architecture)/\($0)" } ?? "\(os)/\(architecture)"
    }

    /// Parses "linux/amd64" or "linux/arm/v7"; nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    /// The platform of the running kernel.
    public static var host: Platform {
        var names = utsname()
        uname(&names)
        let machine = withUnsafePointer(to: names.machine) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
        return Platform(os: "linux", architecture: machine)
    }

    static func normalize(architecture: String, variant: String?) -> (architecture: String, variant: String?) {
        var variant = variant?.lowercased()
        if let v = variant, !v.hasPrefix("v"), Int(v) != nil { variant = "v" + v }
        switch architecture.lowercased() {
        case "x86_64", "x86-64", "amd64": return ("amd64", variant)
        case "aarch64", "arm64", "arm64v8": return ("arm64", variant == nil || variant == "v8" ? nil : variant)
        case "armhf", "armv7l", "armv7": return ("arm", variant ?? "v7")
        case "armel", "armv6l", "armv6": return ("arm", variant ?? "v6")
        case "armv5l", "armv5": return ("arm", variant ?? "v5")
        case "i386", "i486", "i586", "i686", "386": return ("386", variant)
        case let other: return (other, variant)
        }
    }

    private var armLevel: Int? {
        guard let variant, variant.hasPrefix("v") else { return nil }
        return Int(variant.dropFirst())
    }

    /// How well a manifest built for `candidate` runs here: nil when it does
    /// not run at all, larger when it fits better. A variant is only compared
    /// when both sides name one, and ARM never takes a newer variant than the
    /// host's.
    public func score(for candidate: Platform) -> Int? {
        guard candidate.os == os, candidate.architecture == architecture else { return nil }
        switch (variant, candidate.variant) {
        case (_, nil): return 1
        case (nil, _): return 1
        case let (mine?, theirs?) where mine == theirs: return 1000
        case (_, _):
            guard architecture == "arm", let mine = armLevel, let theirs = candidate.armLevel, theirs <= mine else { return nil }
            return 10 + theirs
        }
    }

    /// The best entry for this platform, whatever the order of the entries;
    /// ties keep the first. Entries without a platform are taken to run anywhere.
    public func select(from manifests: [Descriptor]) -> Descriptor? {
        var best: (score: Int, descriptor: Descriptor)? = nil
        for descriptor in manifests {
            guard let platform = descriptor.platform else { continue }
            guard let score = score(for: Platform(os: platform.os, architecture: platform.architecture, variant: platform.variant)) else { continue }
            if best == nil || score > best!.score { best = (score, descriptor) }
        }
        if best == nil, let any = manifests.first(where: { $0.platform == nil && MediaType.isManifest($0.mediaType) }) {
            return any
        }
        return best?.descriptor
    }
}
