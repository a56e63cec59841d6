import BurrowLaunch
import BurrowStore
import BurrowSystem

/// `-v`, `--mount` and `--tmpfs` as Docker reads them, with Docker's
/// messages: the `-v` grammar and the checks every mount passes follow
/// moby's volume/mounts/linux_parser.go, `--mount` docker/cli's
/// opts/mount.go, `--tmpfs` moby's ParseTmpfsOptions. Where Docker has no
/// rule (a relative host path, a tmpfs size the kernel would refuse), the
/// message is burrow's own. Pure: nothing on the disk is looked at.
public enum MountSpecParser {
    /// Every mount of a container, in the order Docker checks them (`-v`,
    /// then `--mount`, then `--tmpfs`); host paths given relative to
    /// `workingDirectory` (".", "./data", "../data") made absolute; two
    /// mounts on one target refused.
    public static func parse(volumes: [String] = [], mounts: [String] = [], tmpfs: [String] = [],
                             workingDirectory: String) throws -> [MountSpec] {
        var specs = try volumes.map(volume) + mounts.map(mount) + tmpfs.map(self.tmpfs)
        var seen = Set<String>()
        for index in specs.indices {
            if specs[index].kind == .bind, let source = specs[index].source, isRelativeHostPath(source) {
                specs[index].source = clean(workingDirectory + "/" + source)
            }
            guard seen.insert(specs[index].target).inserted else {
                throw BurrowError.invalidArgument("Duplicate mount point: \(specs[index].target)")
            }
        }
        return specs
    }

    // MARK: -v

    /// `-v [SOURCE:]TARGET[:MODE]`: SOURCE is a host path when absolute (or
    /// starting with "."), a volume name otherwise; no SOURCE is an
    /// anonymous volume. MODE is a comma-separated list of at most one each
    /// of rw|ro, z|Z (accepted and ignored, as without SELinux), a
    /// propagation, nocopy, and a consistency (ignored, as on Linux).
    public static func volume(_ text: String) throws -> MountSpec {
        let parts = text.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty else { throw invalidSpecification(text) }
        var source: String? = nil
        var target: String
        var mode = ""
        switch parts.count {
        case 1:
            target = parts[0]
        case 2:
            // A mode alone after a target ("/data:ro") is not a volume.
            if (try? volumeModes(parts[1])) != nil { throw invalidSpecification(text) }
            source = parts[0]
            target = parts[1]
        case 3:
            source = parts[0]
            target = parts[1]
            mode = parts[2]
        default:
            throw invalidSpecification(text)
        }
        guard let modes = try? volumeModes(mode) else { throw BurrowError.invalidArgument("invalid mode: \(mode)") }

        let kind: MountSpec.Kind = source.map { $0.hasPrefix("/") || isRelativeHostPath($0) } ?? false ? .bind : .volume
        var spec = MountSpec(kind: kind, source: source.map { $0.hasPrefix("/") ? clean($0) : $0 }, target: target,
                             readOnly: modes.contains("ro"))
        spec.options.createsHostDirectory = kind == .bind
        spec.options.noCopy = modes.contains("nocopy")
        let propagation = modes.first { propagations.contains($0) }
        try validate(&spec, volumeOptions: modes.contains("nocopy"), bindOptions: propagation != nil, propagation: propagation)
        return spec
    }

    /// The mode list of `-v`, nil when one is unknown or given twice.
    private static func volumeModes(_ mode: String) throws -> [String] {
        if mode.isEmpty { return [] }
        let groups: [Set<String>] = [["rw", "ro"], ["z", "Z"], propagations, ["nocopy"], ["consistent", "cached", "delegated"]]
        var counts = [Int](repeating: 0, count: groups.count)
        let modes = mode.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for item in modes {
            guard let group = groups.firstIndex(where: { $0.contains(item) }) else { throw BurrowError.invalidArgument(item) }
            counts[group] += 1
            if counts[group] > 1 { throw BurrowError.invalidArgument(item) }
        }
        return modes
    }

    private static let propagations: Set<String> = ["shared", "rshared", "slave", "rslave", "private", "rprivate"]

    private static func invalidSpecification(_ text: String) -> BurrowError {
        BurrowError.invalidArgument("invalid volume specification: '\(text)'")
    }

    // MARK: --mount

    /// `--mount type=bind|volume|tmpfs,source=...,target=...,readonly,...`:
    /// comma-separated (CSV: a field may be quoted) keys, with Docker's
    /// aliases (src, dst and destination, ro). The type defaults to volume.
    public static func mount(_ text: String) throws -> MountSpec {
        var type = "volume"
        var source: String? = nil
        var target = ""
        var readOnly = false
        var options = MountSpec.Options()
        var volumeOptions = false, bindOptions = false, tmpfsOptions = false
        var propagation: String? = nil
        var tmpfsSize: Int64 = 0
        var tmpfsMode: UInt32? = nil

        for field in try csvFields(text) {
            let key = String(field.prefix { $0 != "=" }).lowercased()
            guard field.contains("=") else {
                switch key {
                case "readonly", "ro": readOnly = true
                case "volume-nocopy": options.noCopy = true; volumeOptions = true
                case "bind-nonrecursive": options.nonRecursive = true; bindOptions = true
                default: throw BurrowError.invalidArgument("invalid field '\(field)' must be a key=value pair")
                }
                continue
            }
            let value = String(field.drop { $0 != "=" }.dropFirst())
            func bool() throws -> Bool {
                guard let parsed = parseBool(value) else { throw BurrowError.invalidArgument("invalid value for \(key): \(value)") }
                return parsed
            }
            switch key {
            case "type": type = value.lowercased()
            case "source", "src": source = value
            case "target", "dst", "destination": target = value
            case "readonly", "ro": readOnly = try bool()
            case "consistency": break // macOS only; Docker ignores it on Linux too.
            case "bind-propagation":
                bindOptions = true
                propagation = value.lowercased()
            case "bind-nonrecursive":
                bindOptions = true
                options.nonRecursive = try bool()
            case "bind-recursive":
                bindOptions = true
                switch value {
                case "enabled", "readonly": options.nonRecursive = false
                case "disabled": options.nonRecursive = true
                case "writable":
                    throw BurrowError.unsupported("bind-recursive=writable is not supported: a read-only bind is read-only below too; use bind-recursive=disabled to leave the mounts below out")
                default: throw BurrowError.invalidArgument("invalid value for \(key): \(value)")
                }
            case "volume-nocopy":
                volumeOptions = true
                options.noCopy = try bool()
            case "volume-label":
                volumeOptions = true
                let name = String(value.prefix { $0 != "=" })
                options.volumeLabels[name] = value.contains("=") ? String(value.drop { $0 != "=" }.dropFirst()) : ""
            case "volume-driver":
                volumeOptions = true
                guard value == "local" || value.isEmpty else {
                    throw BurrowError.unsupported("volume driver \"\(value)\" is not supported: burrow has the local driver only")
                }
            case "volume-opt", "volume-subpath", "image-subpath", "tmpfs-options":
                throw BurrowError.unsupported("the mount option \(key) is not supported by burrow: leave it out")
            case "tmpfs-size":
                tmpfsOptions = true
                guard let bytes = ramInBytes(value) else { throw BurrowError.invalidArgument("invalid value for \(key): \(value)") }
                tmpfsSize = bytes
            case "tmpfs-mode":
                tmpfsOptions = true
                guard let mode = UInt32(value, radix: 8) else { throw BurrowError.invalidArgument("invalid value for \(key): \(value)") }
                tmpfsMode = mode
            default:
                throw BurrowError.invalidArgument("unexpected key '\(key)' in '\(field)'")
            }
        }
        if target.isEmpty { throw BurrowError.invalidArgument("target is required") }
        guard let kind = MountSpec.Kind(rawValue: type) else {
            if type == "image" || type == "npipe" || type == "cluster" {
                throw BurrowError.unsupported("mount type \"\(type)\" is not supported by burrow: use bind, volume or tmpfs")
            }
            throw BurrowError.invalidArgument("invalid mount config for type \"\(type)\": mount type unknown")
        }
        if volumeOptions && kind != .volume { throw BurrowError.invalidArgument("cannot mix 'volume-*' options with mount type '\(type)'") }
        if bindOptions && kind != .bind { throw BurrowError.invalidArgument("cannot mix 'bind-*' options with mount type '\(type)'") }
        if tmpfsOptions && kind != .tmpfs { throw BurrowError.invalidArgument("cannot mix 'tmpfs-*' options with mount type '\(type)'") }

        if source == "" && kind != .bind { source = nil }
        var spec = MountSpec(kind: kind, source: source, target: target, readOnly: readOnly, options: options)
        if kind == .bind, let source, source.hasPrefix("/") { spec.source = clean(source) }
        if kind == .tmpfs {
            var data: [String] = []
            if tmpfsSize > 0 { data.append("size=" + sizeText(tmpfsSize)) }
            if let tmpfsMode { data.append("mode=" + String(tmpfsMode, radix: 8)) }
            try applyTmpfsOptions(data + (readOnly ? ["ro"] : []), to: &spec)
        }
        try validate(&spec, volumeOptions: false, bindOptions: false, propagation: propagation)
        return spec
    }

    /// One CSV record as Go's encoding/csv reads it: a field that starts
    /// with a quote runs to the closing quote, and "" inside it is a quote.
    static func csvFields(_ text: String) throws -> [String] {
        var fields: [String] = []
        var field = ""
        var characters = Array(text)[...]
        var column = 0
        func fail(_ reason: String) -> BurrowError {
            BurrowError.invalidArgument("invalid argument \"\(text)\" for \"--mount\" flag: parse error on line 1, column \(column + 1): \(reason)")
        }
        while true {
            if characters.first == "\"" {
                characters = characters.dropFirst()
                column += 1
                var closed = false
                while let c = characters.first {
                    characters = characters.dropFirst()
                    column += 1
                    if c == "\"" {
                        if characters.first == "\"" {
                            field.append("\"")
                            characters = characters.dropFirst()
                            column += 1
                            continue
                        }
                        closed = true
                        break
                    }
                    field.append(c)
                }
                guard closed, characters.isEmpty || characters.first == "," else { throw fail("extraneous or missing \" in quoted-field") }
            } else {
                while let c = characters.first, c != "," {
                    if c == "\"" { throw fail("bare \" in non-quoted-field") }
                    field.append(c)
                    characters = characters.dropFirst()
                    column += 1
                }
            }
            fields.append(field)
            field = ""
            guard characters.first == "," else { break }
            characters = characters.dropFirst()
            column += 1
        }
        return fields
    }

    /// strconv.ParseBool.
    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }

    /// go-units' RAMInBytes: "64m", "1.5GiB", "512", binary multiples, the
    /// unit's case and a trailing b or ib optional.
    static func ramInBytes(_ text: String) -> Int64? {
        var rest = Substring(text)
        let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !digits.isEmpty, digits.first != ".", digits.last != ".", let number = Double(digits) else { return nil }
        rest = rest.dropFirst(digits.count)
        if rest.first == " " { rest = rest.dropFirst() }
        let units: [Character: Double] = ["k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024, "t": 1024 * 1024 * 1024 * 1024,
                                          "p": 1024 * 1024 * 1024 * 1024 * 1024]
        var multiplier: Double = 1
        if let unit = rest.first.flatMap({ units[Character($0.lowercased())] }) {
            multiplier = unit
            rest = rest.dropFirst()
            if rest.first == "i" || rest.first == "I" { rest = rest.dropFirst() }
        }
        if rest.first == "b" || rest.first == "B" { rest = rest.dropFirst() }
        guard rest.isEmpty else { return nil }
        let bytes = number * multiplier
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }

    /// Docker's size option for a tmpfs: the largest unit that divides it.
    static func sizeText(_ bytes: Int64) -> String {
        for (suffix, divisor) in [("g", Int64(1) << 30), ("m", Int64(1) << 20), ("k", Int64(1) << 10)] where bytes % divisor == 0 {
            return "\(bytes / divisor)\(suffix)"
        }
        return String(bytes)
    }

    // MARK: --tmpfs

    /// `--tmpfs PATH[:OPTIONS]`: OPTIONS are mount(8)'s flags (ro, noexec,
    /// exec, nosuid, ...) and tmpfs's own (size=, mode=, uid=, gid=,
    /// nr_inodes=, nr_blocks=, mpol=), after Docker's defaults
    /// noexec,nosuid,nodev; a later option wins over an earlier one.
    public static func tmpfs(_ text: String) throws -> MountSpec {
        let target = String(text.prefix { $0 != ":" })
        let options = text.contains(":") ? String(text.drop { $0 != ":" }.dropFirst()) : ""
        var spec = MountSpec(kind: .tmpfs, source: nil, target: target)
        try checkTarget(target, kind: nil)
        spec.target = clean(target)
        try applyTmpfsOptions(options.isEmpty ? [] : options.split(separator: ",", omittingEmptySubsequences: false).map(String.init), to: &spec)
        return spec
    }

    /// Options of mount(8) a tmpfs takes, as a table: what each sets or clears.
    static let tmpfsFlagTable: [String: (set: MountFlags, clear: MountFlags)] = [
        "ro": (.readOnly, []), "rw": ([], .readOnly),
        "nosuid": (.noSetuid, []), "suid": ([], .noSetuid),
        "nodev": (.noDevices, []), "dev": ([], .noDevices),
        "noexec": (.noExec, []), "exec": ([], .noExec),
        "sync": (.synchronous, []), "async": ([], .synchronous),
        "dirsync": (MountFlags(rawValue: 128), []),
        "noatime": (.noAccessTime, []), "atime": ([], .noAccessTime),
        "nodiratime": (.noDirectoryAccessTime, []), "diratime": ([], .noDirectoryAccessTime),
        "relatime": (.relativeAccessTime, []), "norelatime": ([], .relativeAccessTime),
        "strictatime": (.strictAccessTime, []), "nostrictatime": ([], .strictAccessTime),
        // A new tmpfs has no mounts below it to propagate: private is what it gets.
        "private": ([], []), "rprivate": ([], []),
    ]

    /// tmpfs's own options, and what a value must look like (the kernel's
    /// rule, checked here for a clearer message than its EINVAL).
    static let tmpfsDataKeys: [String: @Sendable (String) -> Bool] = [
        "size": { isSize($0, percent: true) }, "nr_blocks": { isSize($0, percent: false) }, "nr_inodes": { isSize($0, percent: false) },
        "mode": { !$0.isEmpty && UInt32($0, radix: 8).map { $0 <= 0o7777 } == true },
        "uid": { UInt32($0) != nil }, "gid": { UInt32($0) != nil }, "mpol": { !$0.isEmpty },
    ]

    private static func isSize(_ value: String, percent: Bool) -> Bool {
        var digits = Substring(value)
        if percent, digits.hasSuffix("%") { return UInt64(digits.dropLast()) != nil }
        if let last = digits.last, "kKmMgGtTpPeE".contains(last) { digits = digits.dropLast() }
        return !digits.isEmpty && UInt64(digits) != nil
    }

    private static func applyTmpfsOptions(_ options: [String], to spec: inout MountSpec) throws {
        var flags: MountFlags = [.noExec, .noSetuid, .noDevices]
        var data: [(key: String, option: String)] = []
        for option in options where !option.isEmpty {
            if let effect = tmpfsFlagTable[option] {
                flags.subtract(effect.clear)
                flags.formUnion(effect.set)
                continue
            }
            if ["shared", "rshared", "slave", "rslave", "unbindable", "runbindable"].contains(option) {
                throw BurrowError.unsupported("tmpfs option \(option) is not supported: burrow's mounts are private")
            }
            let key = String(option.prefix { $0 != "=" })
            guard option.contains("="), let check = tmpfsDataKeys[key] else {
                let pieces = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { "\"\($0)\"" }
                throw BurrowError.invalidArgument("Invalid tmpfs option [\(pieces.joined(separator: " "))]")
            }
            let value = String(option.drop { $0 != "=" }.dropFirst())
            guard check(value) else {
                throw BurrowError.invalidArgument("invalid tmpfs option \(option) for \(spec.target): \(key == "mode" ? "give an octal mode such as 1777" : key == "uid" || key == "gid" ? "give a number" : "give a number, with k, m or g" + (key == "size" ? " or %" : ""))")
            }
            data.removeAll { $0.key == key }
            data.append((key, option))
        }
        spec.readOnly = flags.contains(.readOnly)
        spec.options.tmpfsFlags = flags
        spec.options.tmpfsData = data.map(\.option)
    }

    // MARK: the checks every mount passes

    /// Docker's validateMountConfig: the target, then what each type needs
    /// and must not have.
    private static func validate(_ spec: inout MountSpec, volumeOptions: Bool, bindOptions: Bool, propagation: String?) throws {
        let kind = spec.kind
        func invalid(_ reason: String) -> BurrowError {
            BurrowError.invalidArgument("invalid mount config for type \"\(kind.rawValue)\": \(reason)")
        }
        try checkTarget(spec.target, kind: kind)
        spec.target = clean(spec.target)
        switch kind {
        case .bind:
            guard let source = spec.source, !source.isEmpty else { throw invalid("field Source must not be empty") }
            if let propagation {
                guard propagations.contains(propagation) else { throw invalid("invalid propagation mode: \(propagation)") }
                guard propagation == "private" || propagation == "rprivate" else {
                    throw BurrowError.unsupported("bind propagation \(propagation) is not supported: burrow's mounts are private (rprivate)")
                }
            }
            if volumeOptions { throw invalid("field VolumeOptions must not be specified") }
            guard source.hasPrefix("/") || isRelativeHostPath(source) else { throw invalid("invalid mount path: '\(source)' mount path must be absolute") }
        case .volume:
            if bindOptions { throw invalid("field BindOptions must not be specified") }
            if spec.readOnly && spec.source == nil { throw invalid("must not set ReadOnly mode when using anonymous volumes") }
            if let name = spec.source { try VolumeRecord.validateName(name) }
        case .tmpfs:
            if bindOptions { throw invalid("field BindOptions must not be specified") }
            if spec.source != nil { throw invalid("field Source must not be specified") }
        }
    }

    /// A target must be given, absolute, and not the root. `kind` nil: the
    /// bare messages of --tmpfs.
    private static func checkTarget(_ target: String, kind: MountSpec.Kind?) throws {
        func invalid(_ reason: String) -> BurrowError {
            BurrowError.invalidArgument(kind.map { "invalid mount config for type \"\($0.rawValue)\": \(reason)" } ?? reason)
        }
        if target.isEmpty { throw invalid("field Target must not be empty") }
        if clean(target) == "/" { throw invalid("invalid specification: destination can't be '/'") }
        if !target.hasPrefix("/") { throw invalid("invalid mount path: '\(target)' mount path must be absolute") }
    }

    /// ".", "..", "./data", "../data": a host path relative to the caller's
    /// directory (podman takes them, and docker's CLI makes "./" absolute).
    /// A volume name cannot start with a dot, so nothing is ambiguous.
    static func isRelativeHostPath(_ source: String) -> Bool {
        source == "." || source == ".." || source.hasPrefix("./") || source.hasPrefix("../")
    }

    /// Go's path.Clean for an absolute or relative path: no empty, "." or
    /// ".." components (".." above the root stays at the root), no trailing slash.
    public static func clean(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for component in path.split(separator: "/") {
            if component == "." { continue }
            if component == ".." {
                if let last = parts.last, last != ".." { parts.removeLast() } else if !absolute { parts.append(component) }
                continue
            }
            parts.append(component)
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
