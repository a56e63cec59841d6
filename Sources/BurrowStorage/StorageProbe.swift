import BurrowArchive
import BurrowOCI
import BurrowLaunch
import BurrowStore
import BurrowSystem
import CBurrowSys
import Glibc

/// What the kernel and the store's filesystem allow, found by trying it once
/// and kept in storage.json until the kernel changes.
public struct StorageProbe: JSONRecord, Sendable {
    public var kernel: String
    public var filesystem: String
    public var overlay: Bool
    public var overlayDetail: String
    public var whiteouts: WhiteoutFormat
    public var whiteoutDetail: String

    init(kernel: String, filesystem: String, overlay: Bool, overlayDetail: String, whiteouts: WhiteoutFormat, whiteoutDetail: String) {
        self.kernel = kernel
        self.filesystem = filesystem
        self.overlay = overlay
        self.overlayDetail = overlayDetail
        self.whiteouts = whiteouts
        self.whiteoutDetail = whiteoutDetail
    }

    public init(json: JSONValue) throws(RecordError) {
        kernel = try json.required("kernel")
        filesystem = try json.required("filesystem")
        guard let overlay = json["overlay"]?.bool else { throw .missing("overlay") }
        self.overlay = overlay
        overlayDetail = try json.required("overlayDetail")
        guard let whiteouts = WhiteoutFormat(rawValue: try json.required("whiteouts")) else { throw .missing("whiteouts") }
        self.whiteouts = whiteouts
        whiteoutDetail = try json.required("whiteoutDetail")
    }

    public var json: JSONValue {
        .object([("kernel", .string(kernel)), ("filesystem", .string(filesystem)), ("overlay", .bool(overlay)),
                 ("overlayDetail", .string(overlayDetail)), ("whiteouts", .string(whiteouts.rawValue)),
                 ("whiteoutDetail", .string(whiteoutDetail))])
    }

    /// The cached result, or a fresh probe when there is none for this kernel.
    public static func current(store: Store) -> StorageProbe {
        let kernel = HostSystem.kernelRelease
        let filesystem = HostSystem.filesystemName(magic: HostSystem.filesystemType(of: store.layout.root))
        if let cached = try? JSONFiles.read(StorageProbe.self, from: store.layout.storageFile),
           cached.kernel == kernel, cached.filesystem == filesystem {
            return cached
        }
        let probe = run(store: store, kernel: kernel, filesystem: filesystem)
        try? JSONFiles.write(probe, to: store.layout.storageFile)
        return probe
    }

    static func run(store: Store, kernel: String, filesystem: String) -> StorageProbe {
        var probe = StorageProbe(kernel: kernel, filesystem: filesystem, overlay: false, overlayDetail: "",
                                 whiteouts: .aufs, whiteoutDetail: "")
        guard let staging = try? store.makeStaging("probe") else {
            probe.overlayDetail = "cannot create a scratch directory in \(store.layout.staging)"
            return probe
        }
        defer { staging.discard() }
        let base = staging.path
        for directory in ["lower", "lower/opaque", "upper", "work", "merged"] {
            try? FileSystem.makeDirectory("\(base)/\(directory)", mode: 0o755)
        }

        if mknod("\(base)/lower/whiteout", S_IFCHR, bsys_makedev(0, 0)) != 0 {
            probe.whiteoutDetail = "cannot create overlay whiteouts (0/0 character devices) on \(filesystem): \(String(cString: strerror(errno)))"
        } else if bsys_lsetxattr("\(base)/lower/opaque", "user.overlay.opaque", "y", 1) != 0 {
            probe.whiteoutDetail = "\(filesystem) does not keep user extended attributes: \(String(cString: strerror(errno)))"
        } else {
            probe.whiteouts = .overlay
            probe.whiteoutDetail = "whiteouts as 0/0 character devices, opaque directories as user.overlay.opaque"
        }

        var plan = LaunchPlan(namespaces: [.user, .mount])
        plan.add(.makePrivate, "make mounts private")
        plan.add(.changeDirectory(base), "enter \(base)")
        plan.add(.mount(source: "overlay", target: "merged", type: "overlay",
                        data: "lowerdir=lower,upperdir=upper,workdir=work,userxattr", flags: [],
                        inRoot: false, create: .nothing, optional: false, readOnly: false, recursive: false),
                 "mount overlay")
        let user = HostUser.current()
        let mapping = UserNamespaceMapping(uids: [.init(inside: 0, outside: user.uid, count: 1)],
                                           gids: [.init(inside: 0, outside: user.gid, count: 1)])
        do {
            let child = try Launcher.start(plan, mapping: mapping)
            _ = try Launcher.wait(child)
            if probe.whiteouts == .overlay {
                probe.overlay = true
                probe.overlayDetail = "the kernel mounts overlayfs in a user namespace on \(filesystem)"
            } else {
                probe.overlayDetail = "overlayfs mounts, but layers cannot hold its whiteouts: \(probe.whiteoutDetail)"
            }
        } catch let failure as LaunchFailure {
            probe.overlayDetail = "the kernel refuses overlayfs in a user namespace on \(filesystem): \(failure.reason)"
        } catch {
            probe.overlayDetail = "overlayfs could not be tried: \(error)"
        }
        return probe
    }

    /// The driver to use: the one asked for, else overlay when it works.
    public func choose(requested: StorageDriver?) throws -> StorageChoice {
        switch requested {
        case .vfs?:
            return StorageChoice(driver: .vfs, reason: "asked for (--storage-driver vfs)", whiteouts: whiteouts.rawValue)
        case .overlay?:
            guard overlay else { throw BurrowError.unsupported("the overlay storage driver does not work here: \(overlayDetail); use --storage-driver vfs") }
            return StorageChoice(driver: .overlay, reason: "asked for (--storage-driver overlay)", whiteouts: whiteouts.rawValue)
        case nil:
            if overlay { return StorageChoice(driver: .overlay, reason: overlayDetail, whiteouts: whiteouts.rawValue) }
            return StorageChoice(driver: .vfs, reason: overlayDetail, whiteouts: whiteouts.rawValue)
        }
    }
}
