import BurrowLaunch
import BurrowStore

/// A mount ready for the launch plan: its host side found or made
/// (ContainerMounts.resolve), nothing left to look up.
public struct ResolvedMount: Sendable, Equatable {
    public var spec: MountSpec
    /// What is bound: a bind's host path, a volume's `_data`; nil for a tmpfs.
    public var hostPath: String?
    /// The host path is a file (or anything but a directory): the target is
    /// made an empty file when the image lacks it, not a directory.
    public var isFile: Bool
    /// The volume's name, for a volume.
    public var volumeName: String?
    /// The volume was made for this container by `resolve` (an anonymous
    /// one, or a name used for the first time): what to remove when
    /// creating the container fails after all.
    public var createdVolume: Bool

    public init(spec: MountSpec, hostPath: String?, isFile: Bool = false, volumeName: String? = nil, createdVolume: Bool = false) {
        self.spec = spec
        self.hostPath = hostPath
        self.isFile = isFile
        self.volumeName = volumeName
        self.createdVolume = createdVolume
    }
}

extension ResolvedMount {
    /// As the container's configuration and record keep it.
    public var configuration: ContainerMount {
        ContainerMount(type: spec.kind.rawValue, source: hostPath, target: spec.target, readOnly: spec.readOnly, volume: volumeName,
                              isFile: isFile, nonRecursive: spec.options.nonRecursive, flags: spec.options.tmpfsFlags.rawValue,
                              data: spec.options.tmpfsData)
    }

    /// Back from the configuration: what the launch steps need.
    public init(_ mount: ContainerMount) {
        var options = MountSpec.Options()
        options.nonRecursive = mount.nonRecursive
        options.tmpfsFlags = MountFlags(rawValue: mount.flags)
        options.tmpfsData = mount.data
        let kind = MountSpec.Kind(rawValue: mount.type) ?? .bind
        let source = kind == .volume ? mount.volume : mount.source
        self.init(spec: MountSpec(kind: kind, source: source, target: mount.target, readOnly: mount.readOnly, options: options),
                  hostPath: mount.source, isFile: mount.isFile, volumeName: mount.volume)
    }
}
