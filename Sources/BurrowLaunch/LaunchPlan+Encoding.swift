/// The plan as the C executor reads it: one little-endian buffer of a
/// header, a step table and a string table (include/burrow_launch.h).
extension LaunchPlan {
    static let magic: UInt32 = 0x5752_5242
    static let version: UInt32 = 2
    static let headerSize = 160
    static let stepSize = 32
    static let rlimitSize = 24

    enum Op: UInt32 {
        case makePrivate = 1, changeDirectory, mount, setRoot, makeDirectory, symlink, mask, readOnly,
             pseudoFilesystem, pivotRoot, hostname, remountRootReadOnly
        // 13 was "bring up the loopback": every new network namespace gets it.
        case writeFile = 14, unlink, setNamespace, remountReadOnly
    }

    struct StepFlags: OptionSet {
        let rawValue: UInt32
        static let targetInRoot = StepFlags(rawValue: 0x1)
        static let createDirectory = StepFlags(rawValue: 0x2)
        static let createFile = StepFlags(rawValue: 0x4)
        static let optional = StepFlags(rawValue: 0x8)
        static let readOnly = StepFlags(rawValue: 0x10)
        static let recursive = StepFlags(rawValue: 0x20)
        static let sourceInRoot = StepFlags(rawValue: 0x40)
    }

    struct PlanFlags: OptionSet {
        let rawValue: UInt32
        static let exec = PlanFlags(rawValue: 0x1)
        static let stdinNull = PlanFlags(rawValue: 0x2)
        static let newSession = PlanFlags(rawValue: 0x4)
        static let noNewPrivileges = PlanFlags(rawValue: 0x8)
        static let setGroups = PlanFlags(rawValue: 0x10)
        static let setIDs = PlanFlags(rawValue: 0x20)
        static let setCapabilities = PlanFlags(rawValue: 0x40)
        static let deathSignal = PlanFlags(rawValue: 0x80)
        static let closeDescriptors = PlanFlags(rawValue: 0x100)
        static let detachStandardStreams = PlanFlags(rawValue: 0x200)
    }

    static func cloneFlag(_ namespace: Namespace) -> UInt64 {
        switch namespace {
        case .user: return 0x1000_0000
        case .mount: return 0x0002_0000
        case .pid: return 0x2000_0000
        case .uts: return 0x0400_0000
        case .ipc: return 0x0800_0000
        case .network: return 0x4000_0000
        case .cgroup: return 0x0200_0000
        }
    }

    static func cloneFlags(_ namespaces: Set<Namespace>) -> UInt64 {
        namespaces.reduce(0) { $0 | cloneFlag($1) }
    }

    /// The string table; offset 0 is the empty string, which means "none".
    private struct Strings {
        var bytes: [UInt8] = [0]
        var offsets: [String: UInt32] = [:]

        mutating func add(_ text: String?) -> UInt32 {
            guard let text else { return 0 }
            if let known = offsets[text] { return known }
            let offset = UInt32(bytes.count)
            bytes.append(contentsOf: text.utf8.filter { $0 != 0 })
            bytes.append(0)
            offsets[text] = offset
            return offset
        }
    }

    public func encoded() -> [UInt8] {
        var strings = Strings()
        var stepBytes: [UInt8] = []
        for step in steps {
            var op: Op
            var flags: StepFlags = []
            var args: [UInt32] = [0, 0, 0, 0]
            var mountFlags: UInt64 = 0
            switch step.operation {
            case .makePrivate:
                op = .makePrivate
            case .changeDirectory(let path):
                op = .changeDirectory
                args[0] = strings.add(path)
            case let .mount(source, target, type, data, mflags, inRoot, create, optional, readOnly, recursive):
                op = .mount
                args = [strings.add(source), strings.add(target), strings.add(type), strings.add(data)]
                mountFlags = mflags.rawValue
                if inRoot { flags.insert(.targetInRoot) }
                if create == .directory { flags.insert(.createDirectory) }
                if create == .file { flags.insert(.createFile) }
                if optional { flags.insert(.optional) }
                if readOnly { flags.insert(.readOnly) }
                if recursive { flags.insert(.recursive) }
            case let .bindInRoot(source, target, create):
                op = .mount
                args = [strings.add(source), strings.add(target), 0, 0]
                mountFlags = MountFlags.bind.rawValue
                flags = [.targetInRoot, .sourceInRoot]
                if create == .directory { flags.insert(.createDirectory) }
                if create == .file { flags.insert(.createFile) }
            case .setRoot(let path):
                op = .setRoot
                args[0] = strings.add(path)
            case let .makeDirectory(path, mode):
                op = .makeDirectory
                args[0] = strings.add(path)
                args[1] = mode
            case let .symlink(text, path):
                op = .symlink
                args[0] = strings.add(text)
                args[1] = strings.add(path)
            case .mask(let path):
                op = .mask
                args[0] = strings.add(path)
            case .readOnly(let path):
                op = .readOnly
                args[0] = strings.add(path)
            case let .pseudoFilesystem(type, path, fallback, readOnly):
                op = .pseudoFilesystem
                args[0] = strings.add(type)
                args[1] = strings.add(path)
                args[2] = strings.add(fallback)
                if readOnly { mountFlags = MountFlags.readOnly.rawValue }
            case .pivotRoot:
                op = .pivotRoot
            case .hostname(let name):
                op = .hostname
                args[0] = strings.add(name)
            case .remountRootReadOnly:
                op = .remountRootReadOnly
            case let .writeFile(path, contents, mode):
                op = .writeFile
                args[0] = strings.add(path)
                args[1] = strings.add(contents)
                args[2] = mode
            case .unlink(let path):
                op = .unlink
                args[0] = strings.add(path)
            case let .joinNamespace(descriptor, type):
                op = .setNamespace
                args[0] = UInt32(bitPattern: descriptor)
                args[1] = UInt32(truncatingIfNeeded: LaunchPlan.cloneFlag(type))
            case .remountReadOnly(let path):
                op = .remountReadOnly
                args[0] = strings.add(path)
            }
            stepBytes.append(u32: op.rawValue)
            stepBytes.append(u32: flags.rawValue)
            for arg in args { stepBytes.append(u32: arg) }
            stepBytes.append(u64: mountFlags)
        }

        var planFlags: PlanFlags = []
        if stdinFromNull { planFlags.insert(.stdinNull) }
        if newSession { planFlags.insert(.newSession) }
        if dieWithParent { planFlags.insert(.deathSignal) }
        if closeInheritedDescriptors { planFlags.insert(.closeDescriptors) }
        if detachStandardStreams { planFlags.insert(.detachStandardStreams) }

        var limitBytes: [UInt8] = []
        var seccomp: [UInt8] = []
        var groups: [UInt32] = []
        var argv: [UInt32] = []
        var envp: [UInt32] = []
        var cwd: UInt32 = 0
        var search: UInt32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var caps = CapabilitySets(bounding: 0, effective: 0, permitted: 0, inheritable: 0, ambient: 0)
        if let process {
            planFlags.insert(.exec)
            argv = process.arguments.map { strings.add($0) }
            envp = process.environment.map { strings.add($0) }
            cwd = strings.add(process.workingDirectory)
            search = strings.add(process.searchPath)
            if let user = process.user {
                planFlags.insert(.setIDs)
                uid = user.uid
                gid = user.gid
            }
            if let list = process.groups {
                planFlags.insert(.setGroups)
                groups = list
            }
            if let sets = process.capabilities {
                planFlags.insert(.setCapabilities)
                caps = sets
            }
            if process.noNewPrivileges { planFlags.insert(.noNewPrivileges) }
            for limit in process.resourceLimits {
                limitBytes.append(u32: limit.resource)
                limitBytes.append(u32: 0)
                limitBytes.append(u64: limit.soft)
                limitBytes.append(u64: limit.hard)
            }
            seccomp = process.seccompProgram
        }

        let stepsOffset = LaunchPlan.headerSize
        let rlimitOffset = stepsOffset + stepBytes.count
        let seccompOffset = rlimitOffset + limitBytes.count
        let groupsOffset = seccompOffset + seccomp.count
        let argvOffset = groupsOffset + groups.count * 4
        let envpOffset = argvOffset + argv.count * 4
        let stringsOffset = envpOffset + envp.count * 4
        var total = stringsOffset + strings.bytes.count
        total = (total + 7) & ~7

        var out: [UInt8] = []
        out.reserveCapacity(total)
        out.append(u32: LaunchPlan.magic)
        out.append(u32: LaunchPlan.version)
        out.append(u32: UInt32(total))
        out.append(u32: planFlags.rawValue)
        out.append(u64: LaunchPlan.cloneFlags(namespaces))
        out.append(u32: UInt32(steps.count))
        out.append(u32: UInt32(stepsOffset))
        out.append(u32: UInt32(stringsOffset))
        out.append(u32: UInt32(total - stringsOffset))
        out.append(u32: uid)
        out.append(u32: gid)
        out.append(u32: UInt32(groups.count))
        out.append(u32: UInt32(groupsOffset))
        out.append(u32: UInt32(argv.count))
        out.append(u32: UInt32(argvOffset))
        out.append(u32: UInt32(envp.count))
        out.append(u32: UInt32(envpOffset))
        out.append(u32: cwd)
        out.append(u32: search)
        out.append(u64: caps.bounding)
        out.append(u64: caps.effective)
        out.append(u64: caps.permitted)
        out.append(u64: caps.inheritable)
        out.append(u64: caps.ambient)
        out.append(u32: seccomp.isEmpty ? 0 : UInt32(seccompOffset))
        out.append(u32: UInt32(seccomp.count / 8))
        out.append(u32: UInt32(limitBytes.count / LaunchPlan.rlimitSize))
        out.append(u32: UInt32(rlimitOffset))
        let streams = standardStreams ?? [-1, -1, -1]
        for index in 0..<3 { out.append(u32: UInt32(bitPattern: index < streams.count ? streams[index] : -1)) }
        out.append(u32: UInt32(bitPattern: console?.socket ?? -1))
        out.append(u16: console?.rows ?? 0)
        out.append(u16: console?.columns ?? 0)
        out.append(u32: 0)
        assert(out.count == LaunchPlan.headerSize)
        out += stepBytes
        out += limitBytes
        out += seccomp
        for group in groups { out.append(u32: group) }
        for offset in argv { out.append(u32: offset) }
        for offset in envp { out.append(u32: offset) }
        out += strings.bytes
        while out.count < total { out.append(0) }
        return out
    }
}

extension Array where Element == UInt8 {
    mutating func append(u32 value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func append(u16 value: UInt16) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func append(u64 value: UInt64) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
