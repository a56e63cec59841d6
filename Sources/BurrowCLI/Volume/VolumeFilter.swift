import BurrowStore
import BurrowSystem

/// `--filter KEY=VALUE` of `volume ls` and `volume prune`, as Docker reads
/// them: values of one key are alternatives, different keys must all match.
struct VolumeFilter {
    private var values: [String: [String]] = [:]

    /// `allowed`: the keys the command takes; any other is an error naming it.
    init(_ arguments: [String], allowed: Set<String>) throws {
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else {
                throw BurrowError.invalidArgument("bad format of filter (expected name=value): \(argument)")
            }
            let key = String(argument[..<equals]).lowercased()
            let value = String(argument[argument.index(after: equals)...])
            guard allowed.contains(key) else {
                throw BurrowError.invalidArgument("invalid filter '\(key)': use one of \(allowed.sorted().joined(separator: ", "))")
            }
            if key == "dangling" && VolumeFilter.bool(value) == nil {
                throw BurrowError.invalidArgument("invalid filter 'dangling=\(value)': use dangling=true or dangling=false")
            }
            values[key, default: []].append(value)
        }
    }

    private static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: return nil
        }
    }

    /// `used`: whether a container's mounts name the volume.
    func matches(_ volume: VolumeRecord, used: Bool) -> Bool {
        for (key, alternatives) in values {
            let matched: Bool
            switch key {
            case "dangling": matched = alternatives.contains { VolumeFilter.bool($0) == !used }
            case "name": matched = alternatives.contains { volume.name.contains($0) }
            case "driver": matched = alternatives.contains { $0 == volume.driver }
            case "label": matched = alternatives.contains { VolumeFilter.hasLabel(volume, $0) }
            case "label!": matched = !alternatives.contains { VolumeFilter.hasLabel(volume, $0) }
            default: matched = true
            }
            if !matched { return false }
        }
        return true
    }

    /// `KEY` (any value) or `KEY=VALUE`.
    private static func hasLabel(_ volume: VolumeRecord, _ filter: String) -> Bool {
        let key = String(filter.prefix { $0 != "=" })
        guard let value = volume.labels[key] else { return false }
        return !filter.contains("=") || value == String(filter.drop { $0 != "=" }.dropFirst())
    }
}
