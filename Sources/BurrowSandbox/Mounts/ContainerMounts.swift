import BurrowLaunch
import BurrowOCI
import BurrowStorage
import BurrowStore
import BurrowSystem
import Glibc

/// The host side of a container's mounts, made ready before its plan:
/// bind sources checked (or created, for `-v`), volumes created on first
/// use and filled from the image ("copy-up").
public enum ContainerMounts {
    /// Resolves the mounts of a new container, in the order given, then one
    /// anonymous volume for each of the image's VOLUMEs (`imageVolumes`, the
    /// keys of its config's Volumes) that no mount covers, as Docker does.
    ///
    /// - A bind's missing source is created as a directory when `-v` named
    ///   it (Docker), an error naming it otherwise (`--mount`, as Docker and podman).
    /// - A named volume is created on first use, an anonymous one every time.
    /// - A volume whose directory is empty is filled with what the image
    ///   holds at the target (owners, modes, times), unless `nocopy`; this
    ///   runs as root of the user namespace (`__storage copy-up`).
    ///
    /// Call with the store locked shared (`store.lock(.shared)`) and keep the
    /// lock until the container's record, with `ResolvedMount.configuration` for
    /// each mount, is written: `volume rm` takes it exclusively, so a volume
    /// cannot go between its check and the record. On a later failure,
    /// `discard` removes the volumes this call made.
    public static func resolve(specs: [MountSpec], store: Store, identity: Identity, imageLayers: [Digest],
                               imageVolumes: [String] = []) throws -> [ResolvedMount] {
        var specs = specs
        let targets = Set(specs.map(\.target))
        for path in imageVolumes.map(MountSpecParser.clean).sorted() where path.hasPrefix("/") && path != "/" && !targets.contains(path) {
            specs.append(MountSpec(kind: .volume, source: nil, target: path))
        }
        var resolved: [ResolvedMount] = []
        do {
            for spec in specs {
                switch spec.kind {
                case .tmpfs:
                    resolved.append(ResolvedMount(spec: spec, hostPath: nil))
                case .bind:
                    resolved.append(try bind(spec))
                case .volume:
                    var labels = spec.options.volumeLabels
                    if spec.isAnonymousVolume { labels[VolumeRecord.anonymousLabel] = "" }
                    let (record, created) = try store.createVolume(name: spec.source, labels: labels)
                    resolved.append(ResolvedMount(spec: spec, hostPath: record.mountpoint, volumeName: record.name, createdVolume: created))
                    if !spec.options.noCopy && !imageLayers.isEmpty && store.volumeIsEmpty(record.name) != false {
                        try copyUp(volume: record.name, path: spec.target, store: store, identity: identity, layers: imageLayers)
                    }
                }
            }
        } catch {
            discard(resolved, store: store, identity: identity)
            throw error
        }
        return resolved
    }

    /// What `resolve` would give, with nothing created, filled or checked
    /// beyond a look at the disk: for `run --dry-run`. A volume that does
    /// not exist yet (an anonymous one always) shows where it would be.
    public static func preview(specs: [MountSpec], store: Store, imageVolumes: [String] = []) -> [ResolvedMount] {
        let targets = Set(specs.map(\.target))
        let implied = imageVolumes.map(MountSpecParser.clean).sorted().filter { $0.hasPrefix("/") && $0 != "/" && !targets.contains($0) }
        return (specs + implied.map { MountSpec(kind: .volume, source: nil, target: $0) }).map { spec in
            switch spec.kind {
            case .tmpfs:
                return ResolvedMount(spec: spec, hostPath: nil)
            case .bind:
                var st = stat()
                let isFile = spec.source.map { stat($0, &st) == 0 && st.st_mode & S_IFMT != S_IFDIR } ?? false
                return ResolvedMount(spec: spec, hostPath: spec.source, isFile: isFile)
            case .volume:
                let name = spec.source ?? Hex.random(bytes: 32)
                return ResolvedMount(spec: spec, hostPath: store.layout.volumeData(name), volumeName: name)
            }
        }
    }

    static func bind(_ spec: MountSpec) throws -> ResolvedMount {
        guard let path = spec.source, path.hasPrefix("/") else {
            throw BurrowError.invalidArgument("invalid mount config for type \"bind\": invalid mount path: '\(spec.source ?? "")' mount path must be absolute")
        }
        var st = stat()
        if stat(path, &st) != 0 {
            let error = errno
            guard error == ENOENT, spec.options.createsHostDirectory else {
                if error == ENOENT {
                    throw BurrowError.notFound("invalid mount config for type \"bind\": bind source path does not exist: \(path)")
                }
                throw BurrowError(error == EACCES ? .permissionDenied : .engine,
                                  "cannot use \(path) as the source of a bind mount: \(String(cString: strerror(error)))")
            }
            do {
                try FileSystem.makeDirectories(path, mode: 0o755)
            } catch {
                throw BurrowError.permissionDenied("cannot create the host directory \(path) for -v \(path):\(spec.target): \(error)")
            }
            return ResolvedMount(spec: spec, hostPath: path)
        }
        return ResolvedMount(spec: spec, hostPath: path, isFile: st.st_mode & S_IFMT != S_IFDIR)
    }

    /// Fills the volume from the image, from inside the user namespace: the
    /// image's files belong to subordinate ids, and so must their copies.
    static func copyUp(volume: String, path: String, store: Store, identity: Identity, layers: [Digest]) throws {
        if UserNamespaceHelper.isInside {
            _ = try VolumeFiller.fill(store: store, volume: volume, path: path, layers: layers)
            return
        }
        let code = try UserNamespaceHelper.run(["--root", store.layout.root, "__storage", "copy-up", volume, path] + layers.map(\.description),
                                               mapping: try identity.mapping(.rootless))
        if code != 0 {
            throw BurrowError.engine("could not copy the image's files at \(path) into volume \(volume)")
        }
    }

    /// Removes the volumes `resolve` made (after a failure to create the
    /// container), leaving those that existed before.
    public static func discard(_ mounts: [ResolvedMount], store: Store, identity: Identity) {
        for mount in mounts where mount.createdVolume {
            if let name = mount.volumeName { VolumeRemoval(store: store, identity: identity).delete(name) }
        }
    }

    /// The anonymous volumes of a container, which go with it (`run --rm`,
    /// `rm -v`); named volumes stay, as in Docker.
    public static func removeAnonymousVolumes(of record: ContainerRecord, store: Store, identity: Identity) {
        for mount in record.mounts {
            guard let name = mount.volume, (try? store.volume(name))?.isAnonymous == true,
                  (try? store.containersUsing(volume: name))?.allSatisfy({ $0.id == record.id }) == true else { continue }
            VolumeRemoval(store: store, identity: identity).delete(name)
        }
    }
}
