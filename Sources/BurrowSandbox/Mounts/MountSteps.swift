import BurrowLaunch

/// The launch plan's steps for a container's own mounts (`-v`, `--mount`,
/// `--tmpfs`) and a read-only root (`--read-only`). Pure.
///
/// Where they go in the plan (ContainerPlan.make):
/// - `mounts` after the container's own /proc, /dev (with /dev/shm,
///   /dev/pts, /dev/mqueue), /sys and the /etc files (hosts, hostname,
///   resolv.conf), so that a user's mount over one of them wins, as in
///   Docker; and before the working directory is created (it may lie in a
///   volume), the masked and read-only paths, and pivot_root.
/// - `afterPivotRoot` right after pivot_root: the root is made read-only
///   last, once every mount point and the working directory exist in it.
public enum MountSteps {
    public struct Steps: Sendable, Equatable {
        public var mounts: [LaunchPlan.Step]
        public var afterPivotRoot: [LaunchPlan.Step]
    }

    /// With `readOnlyRoot`, as Docker's --read-only: the root filesystem and
    /// the /etc files are read-only; /dev (with /dev/shm, /dev/pts,
    /// /dev/mqueue), /proc and the container's own mounts are not (a
    /// `--tmpfs /tmp` is how a program gets scratch space). Nothing is
    /// made writable behind the user's back.
    ///
    /// `etcFiles` are the files ContainerPlan binds into /etc (the same list
    /// as its input's): a user's mount of /etc hides them, so they are bound
    /// again over it, as Docker's sorted mounts put them on top; a user's
    /// mount of one of them replaces it, as in Docker.
    public static func steps(_ mounts: [ResolvedMount], readOnlyRoot: Bool, etcFiles: [(name: String, contents: String)]) -> Steps {
        var steps: [LaunchPlan.Step] = []
        let targets = Set(mounts.map(\.spec.target))
        func add(_ operation: LaunchPlan.Operation, _ label: String) { steps.append(LaunchPlan.Step(operation, label: label)) }
        if readOnlyRoot {
            // Before the user's mounts: one over an /etc file is the user's to make read-only.
            for (name, _) in etcFiles where !targets.contains("/etc/\(name)") {
                add(.remountReadOnly("/etc/\(name)"), "make /etc/\(name) read-only")
            }
        }
        // A mount inside another's target comes after it, whatever the
        // order given (Docker sorts by depth too); the order is otherwise kept.
        let ordered = mounts.enumerated().sorted {
            let (a, b) = (depth($0.element.spec.target), depth($1.element.spec.target))
            return a != b ? a < b : $0.offset < $1.offset
        }.map(\.element)
        for mount in ordered { steps.append(step(mount)) }
        for (name, contents) in etcFiles {
            let path = "/etc/\(name)"
            guard !targets.contains(path), let above = targets.filter({ path.hasPrefix($0 + "/") }).max(by: { $0.count < $1.count }) else { continue }
            // As ContainerPlan does it: written to the container's /dev tmpfs, bound, unlinked there.
            let scratch = "/dev/.burrow-\(name)"
            add(.writeFile(scratch, contents: contents, mode: 0o644), "write /etc/\(name) again over the mount on \(above)")
            add(.bindInRoot(source: scratch, target: path, create: .file), "bind /etc/\(name) over the mount on \(above)")
            add(.unlink(scratch), "tidy /dev after /etc/\(name)")
            if readOnlyRoot { add(.remountReadOnly(path), "make /etc/\(name) read-only") }
        }
        let after = readOnlyRoot ? [LaunchPlan.Step(.remountRootReadOnly, label: "make the root filesystem read-only")] : []
        return Steps(mounts: steps, afterPivotRoot: after)
    }

    static func depth(_ path: String) -> Int { path.split(separator: "/").count }

    static func step(_ mount: ResolvedMount) -> LaunchPlan.Step {
        let spec = mount.spec
        switch spec.kind {
        case .tmpfs:
            let data = spec.options.tmpfsData.isEmpty ? nil : spec.options.tmpfsData.joined(separator: ",")
            return LaunchPlan.Step(.mount(source: "tmpfs", target: spec.target, type: "tmpfs", data: data, flags: spec.options.tmpfsFlags,
                                          inRoot: true, create: .directory, optional: false, readOnly: false, recursive: false),
                                   label: "mount tmpfs on \(spec.target)")
        case .bind, .volume:
            // Recursive, as Docker's binds: what is mounted below the source
            // comes along, and a read-only bind is read-only below too.
            let recursive = !spec.options.nonRecursive
            let what: String
            if let name = mount.volumeName {
                what = "volume " + (spec.isAnonymousVolume ? String(name.prefix(12)) : name)
            } else {
                what = mount.hostPath ?? "?"
            }
            return LaunchPlan.Step(.mount(source: mount.hostPath, target: spec.target, type: nil, data: nil,
                                          flags: recursive ? [.bind, .recursive] : [.bind], inRoot: true,
                                          create: mount.isFile ? .file : .directory, optional: false,
                                          readOnly: spec.readOnly, recursive: spec.readOnly && recursive),
                                   label: (spec.kind == .volume ? "mount " : "bind ") + "\(what) on \(spec.target)" + (spec.readOnly ? " read-only" : ""))
        }
    }
}
