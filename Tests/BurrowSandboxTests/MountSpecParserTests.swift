import BurrowLaunch
@testable import BurrowSandbox
import BurrowSystem
import Testing

struct MountSpecParserTests {
    struct Case: CustomStringConvertible, Sendable {
        let text: String
        let kind: MountSpec.Kind
        let source: String?
        let target: String
        var readOnly = false
        var createsHostDirectory = false
        var noCopy = false
        var description: String { text }
    }

    // MARK: -v

    static let volumeCases: [Case] = [
        Case(text: "/host:/ctr", kind: .bind, source: "/host", target: "/ctr", createsHostDirectory: true),
        Case(text: "/host/:/ctr/./sub/../:ro", kind: .bind, source: "/host", target: "/ctr", readOnly: true, createsHostDirectory: true),
        Case(text: "/host:/ctr:rw", kind: .bind, source: "/host", target: "/ctr", createsHostDirectory: true),
        Case(text: "/host:/ctr:ro,z", kind: .bind, source: "/host", target: "/ctr", readOnly: true, createsHostDirectory: true),
        Case(text: "/host:/ctr:Z", kind: .bind, source: "/host", target: "/ctr", createsHostDirectory: true),
        Case(text: "/host:/ctr:rprivate,cached", kind: .bind, source: "/host", target: "/ctr", createsHostDirectory: true),
        Case(text: "./data:/data", kind: .bind, source: "./data", target: "/data", createsHostDirectory: true),
        Case(text: "data:/data", kind: .volume, source: "data", target: "/data"),
        Case(text: "my-vol_1.x:/data:ro", kind: .volume, source: "my-vol_1.x", target: "/data", readOnly: true),
        Case(text: "data:/data:nocopy", kind: .volume, source: "data", target: "/data", noCopy: true),
        Case(text: "/data", kind: .volume, source: nil, target: "/data"),
        Case(text: "/data//x/", kind: .volume, source: nil, target: "/data/x"),
    ]

    @Test(arguments: volumeCases)
    func volumeFlag(_ expected: Case) throws {
        let spec = try MountSpecParser.volume(expected.text)
        #expect(spec.kind == expected.kind)
        #expect(spec.source == expected.source)
        #expect(spec.target == expected.target)
        #expect(spec.readOnly == expected.readOnly)
        #expect(spec.options.createsHostDirectory == expected.createsHostDirectory)
        #expect(spec.options.noCopy == expected.noCopy)
    }

    static let volumeErrors: [(String, String)] = [
        ("", "invalid volume specification: ''"),
        (":/data", "invalid volume specification: ':/data'"),
        ("/data:ro", "invalid volume specification: '/data:ro'"),
        ("data:", "invalid volume specification: 'data:'"),
        ("a:/b:ro:x", "invalid volume specification: 'a:/b:ro:x'"),
        ("/host:/ctr:rx", "invalid mode: rx"),
        ("/host:/ctr:ro,rw", "invalid mode: ro,rw"),
        ("/host:/ctr:z,Z", "invalid mode: z,Z"),
        ("/host:data", "invalid mount config for type \"bind\": invalid mount path: 'data' mount path must be absolute"),
        ("/host:/", "invalid mount config for type \"bind\": invalid specification: destination can't be '/'"),
        ("/host:/x/..", "invalid mount config for type \"bind\": invalid specification: destination can't be '/'"),
        ("/host::ro", "invalid mount config for type \"bind\": field Target must not be empty"),
        ("/host:/ctr:nocopy", "invalid mount config for type \"bind\": field VolumeOptions must not be specified"),
        ("vol:/ctr:rshared", "invalid mount config for type \"volume\": field BindOptions must not be specified"),
        ("/host:/ctr:rshared", "bind propagation rshared is not supported: burrow's mounts are private (rprivate)"),
        ("data", "invalid mount config for type \"volume\": invalid mount path: 'data' mount path must be absolute"),
        ("x:/data", "create x: volume name is too short, names should be at least two alphanumeric characters"),
        ("_x:/data", "create _x: \"_x\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"),
        ("data/x:/data", "create data/x: \"data/x\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"),
    ]

    @Test(arguments: volumeErrors)
    func volumeFlagErrors(_ text: String, _ message: String) {
        #expect { try MountSpecParser.volume(text) } throws: { "\($0)" == message && ($0 as? BurrowError)?.code != nil }
    }

    // MARK: --mount

    static let mountCases: [Case] = [
        Case(text: "type=bind,source=/host,target=/ctr", kind: .bind, source: "/host", target: "/ctr"),
        Case(text: "type=bind,src=/host,dst=/ctr,readonly", kind: .bind, source: "/host", target: "/ctr", readOnly: true),
        Case(text: "type=bind,src=/host,destination=/ctr,ro=true", kind: .bind, source: "/host", target: "/ctr", readOnly: true),
        Case(text: "type=bind,src=/host,target=/ctr,ro=0", kind: .bind, source: "/host", target: "/ctr"),
        Case(text: "TYPE=Bind,SRC=/host,Target=/ctr,bind-propagation=rprivate", kind: .bind, source: "/host", target: "/ctr"),
        Case(text: "type=bind,src=.,target=/ctr", kind: .bind, source: ".", target: "/ctr"),
        Case(text: "type=volume,source=data,target=/data", kind: .volume, source: "data", target: "/data"),
        Case(text: "source=data,target=/data,volume-nocopy", kind: .volume, source: "data", target: "/data", noCopy: true),
        Case(text: "source=data,target=/data,volume-nocopy=false,volume-driver=local", kind: .volume, source: "data", target: "/data"),
        Case(text: "type=volume,target=/data", kind: .volume, source: nil, target: "/data"),
        Case(text: "type=volume,src=,target=/data", kind: .volume, source: nil, target: "/data"),
        Case(text: "type=tmpfs,target=/run", kind: .tmpfs, source: nil, target: "/run"),
        Case(text: "type=tmpfs,dst=/run,tmpfs-size=64m,tmpfs-mode=1770,ro", kind: .tmpfs, source: nil, target: "/run", readOnly: true),
        Case(text: "\"type=bind\",\"src=/a,b\",dst=/c", kind: .bind, source: "/a,b", target: "/c"),
    ]

    @Test(arguments: mountCases)
    func mountFlag(_ expected: Case) throws {
        let spec = try MountSpecParser.mount(expected.text)
        #expect(spec.kind == expected.kind)
        #expect(spec.source == expected.source)
        #expect(spec.target == expected.target)
        #expect(spec.readOnly == expected.readOnly)
        #expect(spec.options.createsHostDirectory == false, "--mount never creates a host directory")
        #expect(spec.options.noCopy == expected.noCopy)
    }

    static let mountErrors: [(String, String)] = [
        ("type=bind,target=/ctr", "invalid mount config for type \"bind\": field Source must not be empty"),
        ("type=bind,source=,target=/ctr", "invalid mount config for type \"bind\": field Source must not be empty"),
        ("type=bind,source=/host", "target is required"),
        ("type=bind,source=host,target=/ctr", "invalid mount config for type \"bind\": invalid mount path: 'host' mount path must be absolute"),
        ("type=bind,source=/host,target=ctr", "invalid mount config for type \"bind\": invalid mount path: 'ctr' mount path must be absolute"),
        ("type=bind,source=/host,target=/", "invalid mount config for type \"bind\": invalid specification: destination can't be '/'"),
        ("type=bind,source=/host,target=/ctr,bind-propagation=sideways", "invalid mount config for type \"bind\": invalid propagation mode: sideways"),
        ("type=bind,source=/host,target=/ctr,volume-nocopy", "cannot mix 'volume-*' options with mount type 'bind'"),
        ("type=volume,target=/ctr,bind-propagation=rprivate", "cannot mix 'bind-*' options with mount type 'volume'"),
        ("type=volume,target=/ctr,tmpfs-size=1m", "cannot mix 'tmpfs-*' options with mount type 'volume'"),
        ("type=volume,target=/data,readonly", "invalid mount config for type \"volume\": must not set ReadOnly mode when using anonymous volumes"),
        ("type=tmpfs,source=/x,target=/run", "invalid mount config for type \"tmpfs\": field Source must not be specified"),
        ("type=nfs,target=/x", "invalid mount config for type \"nfs\": mount type unknown"),
        ("type=bind,source=/host,target=/ctr,readonly=maybe", "invalid value for readonly: maybe"),
        ("type=volume,target=/ctr,volume-nocopy=perhaps", "invalid value for volume-nocopy: perhaps"),
        ("type=tmpfs,target=/ctr,tmpfs-size=lots", "invalid value for tmpfs-size: lots"),
        ("type=tmpfs,target=/ctr,tmpfs-mode=999", "invalid value for tmpfs-mode: 999"),
        ("type=bind,source=/host,target=/ctr,color=red", "unexpected key 'color' in 'color=red'"),
        ("type=bind,source=/host,target=/ctr,shiny", "invalid field 'shiny' must be a key=value pair"),
        ("type=bind,src=/a\"b,dst=/c", "invalid argument \"type=bind,src=/a\"b,dst=/c\" for \"--mount\" flag: parse error on line 1, column 17: bare \" in non-quoted-field"),
    ]

    @Test(arguments: mountErrors)
    func mountFlagErrors(_ text: String, _ message: String) {
        #expect { try MountSpecParser.mount(text) } throws: { "\($0)" == message }
    }

    @Test func tmpfsOptionsOfMount() throws {
        let spec = try MountSpecParser.mount("type=tmpfs,dst=/run,tmpfs-size=64m,tmpfs-mode=1770,ro")
        #expect(spec.options.tmpfsData == ["size=64m", "mode=1770"])
        #expect(spec.options.tmpfsFlags == [.noExec, .noSetuid, .noDevices, .readOnly])
        #expect(try MountSpecParser.mount("type=tmpfs,dst=/run,tmpfs-size=1536k").options.tmpfsData == ["size=1536k"])
        #expect(try MountSpecParser.mount("type=tmpfs,dst=/run,tmpfs-size=1.5GiB").options.tmpfsData == ["size=1536m"])
        #expect(try MountSpecParser.mount("type=tmpfs,dst=/run,tmpfs-size=1000").options.tmpfsData == ["size=1000"])
    }

    @Test func volumeLabelsOfMount() throws {
        let spec = try MountSpecParser.mount("src=data,dst=/data,volume-label=a=1,volume-label=b")
        #expect(spec.options.volumeLabels == ["a": "1", "b": ""])
    }

    // MARK: --tmpfs

    @Test func tmpfsFlag() throws {
        let plain = try MountSpecParser.tmpfs("/tmp")
        #expect(plain.kind == .tmpfs && plain.target == "/tmp" && plain.source == nil && !plain.readOnly)
        #expect(plain.options.tmpfsFlags == [.noExec, .noSetuid, .noDevices])
        #expect(plain.options.tmpfsData.isEmpty)

        let options = try MountSpecParser.tmpfs("/run/:rw,exec,size=64m,mode=1777,size=10%,uid=1000")
        #expect(options.target == "/run")
        #expect(options.options.tmpfsFlags == [.noSetuid, .noDevices], "exec clears Docker's default noexec")
        #expect(options.options.tmpfsData == ["mode=1777", "size=10%", "uid=1000"], "a later size replaces an earlier one")

        let readOnly = try MountSpecParser.tmpfs("/ro:ro,noatime")
        #expect(readOnly.readOnly && readOnly.options.tmpfsFlags.contains(.readOnly) && readOnly.options.tmpfsFlags.contains(.noAccessTime))
    }

    static let tmpfsErrors: [(String, String)] = [
        ("tmp", "invalid mount path: 'tmp' mount path must be absolute"),
        ("/", "invalid specification: destination can't be '/'"),
        (":size=1m", "field Target must not be empty"),
        ("/tmp:color=red", "Invalid tmpfs option [\"color\" \"red\"]"),
        ("/tmp:tmpcopyup", "Invalid tmpfs option [\"tmpcopyup\"]"),
        ("/tmp:size=lots", "invalid tmpfs option size=lots for /tmp: give a number, with k, m or g or %"),
        ("/tmp:mode=rwx", "invalid tmpfs option mode=rwx for /tmp: give an octal mode such as 1777"),
        ("/tmp:uid=me", "invalid tmpfs option uid=me for /tmp: give a number"),
        ("/tmp:rshared", "tmpfs option rshared is not supported: burrow's mounts are private"),
    ]

    @Test(arguments: tmpfsErrors)
    func tmpfsFlagErrors(_ text: String, _ message: String) {
        #expect { try MountSpecParser.tmpfs(text) } throws: { "\($0)" == message }
    }

    // MARK: all of a container's mounts

    @Test func relativeHostPathsAndDuplicates() throws {
        let specs = try MountSpecParser.parse(volumes: ["./data:/data", "../up:/up", ".:/here"], mounts: ["type=bind,src=./m,dst=/m"],
                                              tmpfs: ["/tmp"], workingDirectory: "/home/me/project")
        #expect(specs.map(\.source) == ["/home/me/project/data", "/home/me/up", "/home/me/project", "/home/me/project/m", nil])
        #expect(specs.map(\.kind) == [.bind, .bind, .bind, .bind, .tmpfs])

        #expect { try MountSpecParser.parse(volumes: ["a1:/data", "/host:/data/"], workingDirectory: "/") } throws: {
            "\($0)" == "Duplicate mount point: /data"
        }
        #expect { try MountSpecParser.parse(volumes: ["/data"], tmpfs: ["/data"], workingDirectory: "/") } throws: {
            "\($0)" == "Duplicate mount point: /data"
        }
        #expect { try MountSpecParser.parse(mounts: ["type=tmpfs,dst=/x", "type=volume,dst=/x/."], workingDirectory: "/") } throws: {
            "\($0)" == "Duplicate mount point: /x"
        }
    }

    @Test func pathsAreCleanedAsGoCleansThem() {
        #expect(MountSpecParser.clean("/a//b/./c/..") == "/a/b")
        #expect(MountSpecParser.clean("/../a") == "/a")
        #expect(MountSpecParser.clean("/") == "/")
        #expect(MountSpecParser.clean("a/../../b") == "../b")
    }

    @Test func sizesAsDockerReadsThem() {
        #expect(MountSpecParser.ramInBytes("64m") == 64 << 20)
        #expect(MountSpecParser.ramInBytes("64MB") == 64 << 20)
        #expect(MountSpecParser.ramInBytes("64MiB") == 64 << 20)
        #expect(MountSpecParser.ramInBytes("1 g") == 1 << 30)
        #expect(MountSpecParser.ramInBytes("512") == 512)
        #expect(MountSpecParser.ramInBytes("512b") == 512)
        #expect(MountSpecParser.ramInBytes("") == nil)
        #expect(MountSpecParser.ramInBytes("m") == nil)
        #expect(MountSpecParser.ramInBytes("12q") == nil)
    }
}
