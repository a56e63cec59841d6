import BurrowLaunch
@testable import BurrowSandbox
import Testing

struct MountStepsTests {
    let etc: [(name: String, contents: String)] = [("hosts", "127.0.0.1 localhost\n"), ("hostname", "abc\n"), ("resolv.conf", "")]

    func mount(_ text: String, hostPath: String? = nil, isFile: Bool = false, volume: String? = nil) throws -> ResolvedMount {
        let spec: MountSpec
        if text.hasPrefix("--mount ") {
            spec = try MountSpecParser.mount(String(text.dropFirst(8)))
        } else if text.hasPrefix("--tmpfs ") {
            spec = try MountSpecParser.tmpfs(String(text.dropFirst(8)))
        } else {
            spec = try MountSpecParser.volume(text)
        }
        return ResolvedMount(spec: spec, hostPath: hostPath ?? (spec.kind == .bind ? spec.source : nil), isFile: isFile, volumeName: volume)
    }

    func operation(_ step: LaunchPlan.Step) -> (source: String?, target: String, type: String?, data: String?, flags: MountFlags,
                                                 create: LaunchPlan.Create, readOnly: Bool, recursive: Bool)? {
        guard case let .mount(source, target, type, data, flags, inRoot, create, optional, readOnly, recursive) = step.operation,
              inRoot, !optional else { return nil }
        return (source, target, type, data, flags, create, readOnly, recursive)
    }

    @Test func bindsAreRecursiveAndResolvedInTheRoot() throws {
        let steps = MountSteps.steps([try mount("/srv/data:/data"), try mount("/etc/app.conf:/app.conf:ro", isFile: true),
                                      try mount("--mount type=bind,src=/srv/x,dst=/x,ro,bind-nonrecursive")], readOnlyRoot: false, etcFiles: etc)
        #expect(steps.afterPivotRoot.isEmpty)
        #expect(steps.mounts.map(\.label) == ["bind /srv/data on /data", "bind /etc/app.conf on /app.conf read-only", "bind /srv/x on /x read-only"])
        let data = try #require(operation(steps.mounts[0]))
        #expect(data.source == "/srv/data" && data.target == "/data" && data.type == nil && data.data == nil)
        #expect(data.flags == [.bind, .recursive] && data.create == .directory && !data.readOnly && !data.recursive)
        let file = try #require(operation(steps.mounts[1]))
        #expect(file.create == .file && file.readOnly && file.recursive, "a read-only bind is read-only below too")
        let flat = try #require(operation(steps.mounts[2]))
        #expect(flat.flags == [.bind] && flat.readOnly && !flat.recursive)
    }

    @Test func volumesAndTmpfs() throws {
        let named = try mount("data:/var/lib/data:ro", hostPath: "/store/volumes/data/_data", volume: "data")
        let anonymous = try mount("/cache", hostPath: "/store/volumes/0123456789abcdef/_data", volume: String(repeating: "0123456789abcdef", count: 4))
        let tmpfs = try mount("--tmpfs /run:size=64m,mode=1777,exec")
        let steps = MountSteps.steps([named, anonymous, tmpfs], readOnlyRoot: false, etcFiles: etc)
        #expect(steps.mounts.map(\.label) == ["mount volume 0123456789ab on /cache", "mount tmpfs on /run", "mount volume data on /var/lib/data read-only"])
        let volume = try #require(operation(steps.mounts[2]))
        #expect(volume.source == "/store/volumes/data/_data" && volume.flags == [.bind, .recursive] && volume.readOnly)
        let run = try #require(operation(steps.mounts[1]))
        #expect(run.source == "tmpfs" && run.type == "tmpfs" && run.data == "size=64m,mode=1777")
        #expect(run.flags == [.noSetuid, .noDevices] && run.create == .directory)
    }

    /// A mount inside another's target must come after it, whatever the order given.
    @Test func parentsBeforeChildren() throws {
        let steps = MountSteps.steps([try mount("/a:/data/sub/deeper"), try mount("/b:/data/sub"), try mount("/c:/data"), try mount("/d:/other")],
                                     readOnlyRoot: false, etcFiles: etc)
        #expect(steps.mounts.compactMap { operation($0)?.target } == ["/data", "/other", "/data/sub", "/data/sub/deeper"])
    }

    @Test func readOnlyRootKeepsTheUsersMountsWritable() throws {
        let steps = MountSteps.steps([try mount("--tmpfs /tmp"), try mount("/srv/hosts:/etc/hosts", isFile: true)], readOnlyRoot: true, etcFiles: etc)
        #expect(steps.mounts.map(\.label) == ["make /etc/hostname read-only", "make /etc/resolv.conf read-only", "mount tmpfs on /tmp",
                                              "bind /srv/hosts on /etc/hosts"])
        #expect(steps.afterPivotRoot.map(\.operation) == [.remountRootReadOnly])
        #expect(MountSteps.steps([], readOnlyRoot: true, etcFiles: etc).mounts.map(\.operation) == [.remountReadOnly("/etc/hosts"), .remountReadOnly("/etc/hostname"), .remountReadOnly("/etc/resolv.conf")])
    }

    /// A user's mount of /etc hides the container's /etc files: they are
    /// bound again on top (Docker's sorted mounts put them there), read-only
    /// with --read-only; one the user mounts is the user's.
    @Test func etcFilesStayOverAUsersEtc() throws {
        let steps = MountSteps.steps([try mount("conf:/etc", hostPath: "/v/_data", volume: "conf"), try mount("/srv/resolv:/etc/resolv.conf", isFile: true)],
                                     readOnlyRoot: true, etcFiles: etc)
        #expect(steps.mounts.map(\.label) == [
            "make /etc/hosts read-only", "make /etc/hostname read-only",
            "mount volume conf on /etc", "bind /srv/resolv on /etc/resolv.conf",
            "write /etc/hosts again over the mount on /etc", "bind /etc/hosts over the mount on /etc", "tidy /dev after /etc/hosts", "make /etc/hosts read-only",
            "write /etc/hostname again over the mount on /etc", "bind /etc/hostname over the mount on /etc", "tidy /dev after /etc/hostname", "make /etc/hostname read-only",
        ])
        #expect(steps.mounts[4].operation == .writeFile("/dev/.burrow-hosts", contents: "127.0.0.1 localhost\n", mode: 0o644))
        #expect(steps.mounts[5].operation == .bindInRoot(source: "/dev/.burrow-hosts", target: "/etc/hosts", create: .file))
        #expect(steps.mounts[6].operation == .unlink("/dev/.burrow-hosts"))
        #expect(MountSteps.steps([try mount("/srv/x:/etcetera")], readOnlyRoot: false, etcFiles: etc).mounts.count == 1, "only a directory above them")
    }

    /// Where the run path puts the steps: after the container's own /dev,
    /// /proc, /sys and /etc files (a user's mount over them wins), before the
    /// working directory (it may be inside a volume), the masks and
    /// pivot_root; the root is made read-only after pivot_root.
    @Test func placeInTheContainersPlan() throws {
        let input = ContainerPlan.Input(rootfsSteps: [LaunchPlan.Step(.setRoot("/store/c/merged"), label: "open the root filesystem")],
                                        etcFiles: [("hosts", ""), ("hostname", "abc\n"), ("resolv.conf", "")], hostname: "abc",
                                        network: .none, arguments: ["true"], environment: ["PATH=/bin"], workingDirectory: "/data/work",
                                        uid: 0, gid: 0, additionalGroups: [], canSetGroups: true, ttyGroup: 5, interactive: false)
        var plan = ContainerPlan.make(input)
        let steps = MountSteps.steps([try mount("data:/data", hostPath: "/v/_data", volume: "data"), try mount("--tmpfs /dev/shm:size=1g")],
                                     readOnlyRoot: true, etcFiles: etc)
        let workdir = try #require(plan.steps.firstIndex { if case .makeDirectory = $0.operation { true } else { false } })
        plan.steps.insert(contentsOf: steps.mounts, at: workdir)
        let pivot = try #require(plan.steps.firstIndex { $0.operation == .pivotRoot })
        plan.steps.insert(contentsOf: steps.afterPivotRoot, at: pivot + 1)

        let labels = plan.steps.map(\.label)
        func index(_ label: String) -> Int { labels.firstIndex(of: label) ?? -1 }
        let users = try #require(labels.lastIndex(of: "mount tmpfs on /dev/shm"))
        #expect(index("mount tmpfs on /dev/shm") < users, "the user's /dev/shm goes over the container's own")
        #expect(index("mount volume data on /data") < users, "parents first: /dev/shm is one level deeper")
        #expect(index("tidy /dev after /etc/resolv.conf") < index("make /etc/hosts read-only"))
        #expect(index("mount volume data on /data") < index("create the working directory /data/work"))
        #expect(index("create the working directory /data/work") < index("mask /proc/kcore"))
        #expect(index("pivot_root into the root filesystem") + 1 == index("make the root filesystem read-only"))

        // What the executor reads for the volume's step: op mount, in root +
        // create directory, MS_BIND|MS_REC.
        let bytes = plan.encoded()
        let step = 160 + 32 * index("mount volume data on /data")
        func u32(_ offset: Int) -> UInt32 { bytes[offset..<offset + 4].enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) } }
        #expect(u32(step) == 3 && u32(step + 4) == 0x1 | 0x2 && u32(step + 24) == 4096 | 16384)
        let remount = 160 + 32 * index("make the root filesystem read-only")
        #expect(u32(remount) == 12)
    }
}
