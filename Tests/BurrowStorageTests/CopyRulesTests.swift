import BurrowStorage
import Testing

/// `burrow cp`'s reading of its arguments and Docker's table of what goes where.
struct CopyRulesTests {
    typealias Rule = (source: CopyRules.Source, src: String, destination: CopyRules.Destination, dst: String, expected: Result<CopyRules.Placement, CopyRules.Failure>)

    static let table: [Rule] = [
        // A file.
        (.other, "a/file", .missing, "b/new", .success(.at(name: "new"))),
        (.other, "a/file", .missing, "b/new/", .failure(.destinationDirectoryMissing)),
        (.other, "a/file", .other, "b/old", .success(.at(name: "old"))),
        (.other, "a/file", .other, "b/old/", .failure(.destinationNotDirectory)),
        (.other, "a/file", .directory, "b/dir", .success(.into(name: "file"))),
        (.other, "a/file", .directory, "b/dir/", .success(.into(name: "file"))),
        (.other, "a/file", .directory, "b/dir/.", .success(.into(name: "file"))),
        (.other, "a/file/", .directory, "b/dir", .failure(.sourceNotDirectory)),
        (.other, "a/file/.", .directory, "b/dir", .failure(.sourceNotDirectory)),
        // A directory.
        (.directory, "a/dir", .missing, "b/new", .success(.at(name: "new"))),
        (.directory, "a/dir", .missing, "b/new/", .success(.at(name: "new"))),
        (.directory, "a/dir/.", .missing, "b/new", .success(.at(name: "new"))),
        (.directory, "a/dir", .other, "b/old", .failure(.directoryOntoFile)),
        (.directory, "a/dir/.", .other, "b/old", .failure(.directoryOntoFile)),
        (.directory, "a/dir", .directory, "b/dir2", .success(.into(name: "dir"))),
        (.directory, "a/dir/", .directory, "b/dir2", .success(.into(name: "dir"))),
        (.directory, "a/dir/.", .directory, "b/dir2", .success(.contentsInto)),
        (.directory, "a/dir/./", .directory, "b/dir2", .success(.contentsInto)),
        (.directory, ".", .directory, "b/dir2", .success(.contentsInto)),
    ]

    @Test(arguments: table.indices)
    func placement(index: Int) {
        let rule = CopyRulesTests.table[index]
        let source = HostPath(rule.src)
        let destination = HostPath(rule.dst)
        let result = Result { () throws(CopyRules.Failure) -> CopyRules.Placement in
            try CopyRules.placement(source: rule.source, sourceName: source.name, sourceAssertsDirectory: source.assertsDirectory,
                                    sourceContentsOnly: source.contentsOnly, destination: rule.destination,
                                    destinationName: destination.name, destinationAssertsDirectory: destination.assertsDirectory)
        }
        #expect(result == rule.expected, "\(rule.source) \(rule.src) → \(rule.destination) \(rule.dst)")
    }

    @Test(arguments: [
        ("c:/etc/hosts", CopyArgument.container(name: "c", path: "/etc/hosts")),
        ("c:etc", .container(name: "c", path: "etc")),
        ("c:", .container(name: "c", path: "")),
        ("my-box.1:/a:b", .container(name: "my-box.1", path: "/a:b")),
        ("-", .stream),
        ("c:-", .container(name: "c", path: "-")),
        ("file", .host("file")),
        ("./a:b", .host("./a:b")),
        ("../a:b", .host("../a:b")),
        ("/tmp/a:b", .host("/tmp/a:b")),
        (":x", .host(":x")),
    ])
    func argumentsSplitAsDocker(text: String, expected: CopyArgument) {
        #expect(CopyArgument(parsing: text) == expected)
    }

    @Test(arguments: [
        ("/etc/hosts", "/etc/hosts", false, false),
        ("etc//hosts", "/etc/hosts", false, false),
        ("/a/../../../b", "/b", false, false),
        ("../../etc", "/etc", false, false),
        ("/etc/", "/etc", true, false),
        ("/etc/.", "/etc", true, true),
        ("/etc/./", "/etc", true, true),
        (".", "/", true, true),
        ("/", "/", true, false),
        ("", "/", false, false),
        ("/a/b/..", "/a", false, false),
    ])
    func containerPathsAreCleanedFromTheRoot(text: String, clean: String, assertsDirectory: Bool, contentsOnly: Bool) {
        let path = ContainerPath(text)
        #expect(path.description == clean)
        #expect(path.assertsDirectory == assertsDirectory)
        #expect(path.contentsOnly == contentsOnly)
    }

    @Test func destinationSymlinksStayInTheContainer() {
        #expect(ContainerPath("/etc/x").following(link: "/").description == "/")
        #expect(ContainerPath("/a/b").following(link: "../../../../etc").description == "/etc")
        #expect(ContainerPath("/a/b").following(link: "c/d").description == "/a/c/d")
    }

    @Test(arguments: [
        ("a/b/c", "a/b", "c"), ("a/b/", "a", "b"), ("file", ".", "file"), ("/file", "/", "file"),
        ("./x/../y", ".", "y"), ("../up", "..", "up"), ("/", "/", "/"), (".", ".", "."), ("dir/.", ".", "dir"),
    ])
    func hostPathsSplitIntoDirectoryAndName(text: String, directory: String, name: String) {
        #expect(HostPath(text).directory == directory)
        #expect(HostPath(text).name == name)
    }

    @Test func keepIDContainersTradeRootWithTheUser() {
        let identities = CopyIdentities(mapped: .init(uids: [.init(first: 0, count: 65537)], gids: [.init(first: 0, count: 65537)]),
                                        caller: (0, 0), swapped: (1000, 1000))
        #expect(identities.toContainer(uid: 0, gid: 0) == (1000, 1000))
        #expect(identities.toContainer(uid: 1000, gid: 5) == (0, 5))
        #expect(identities.toProcess(uid: 33, gid: 33) == (33, 33))
        #expect(identities.containerRoot == (1000, 1000))
        let single = CopyIdentities(mapped: .init(uids: [.init(first: 1000, count: 1)], gids: [.init(first: 1000, count: 1)]), caller: (1000, 1000))
        #expect(single.containerRoot == (1000, 1000), "a namespace that maps only the user gives everything to the user")
        #expect(CopyIdentities.inside(of: 1001, map: "         0       1001          1\n         1     232072      65536\n") == 0)
        #expect(CopyIdentities.inside(of: 232080, map: "0 1001 1\n1 232072 65536\n") == 9)
        #expect(CopyIdentities.inside(of: 5, map: "0 1001 1\n") == nil)
    }

    @Test func aContainersRootMountNamesItsDirectory() {
        let id = String(repeating: "ab", count: 32)
        let overlay = "94 69 0:42 / / rw,relatime - overlay overlay rw,lowerdir=layers/x/root,upperdir=containers/\(id)/upper,workdir=containers/\(id)/work,userxattr\n95 94 0:44 / /proc rw - proc proc rw\n"
        let vfs = "90 70 8:1 /home/u/.local/share/burrow/containers/\(id)/rootfs / rw,relatime - ext4 /dev/sda1 rw\n"
        let other = "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n30 25 0:5 /x/containers/\(id)/upper /mnt rw - ext4 /dev/sda1 rw\n"
        #expect(ContainerRoot.isContainerMountInfo(overlay, id: id))
        #expect(ContainerRoot.isContainerMountInfo(vfs, id: id))
        #expect(!ContainerRoot.isContainerMountInfo(other, id: id), "a reused pid whose root is not the container's")
    }
}
