import BurrowArchive
import BurrowStorage
import BurrowSystem
import BurrowTestSupport
import CBurrowSys
import Foundation
import Glibc
import Testing

/// A scratch directory with a pretend container root, a host directory,
/// and an "outside" directory that no copy may ever touch.
final class CopyScene {
    let scratch: String
    let root: String
    let host: String
    let outside: String
    let rootFD: Int32

    init() throws {
        scratch = Fixtures.temporaryDirectory("burrow-cp")
        root = scratch + "/root"
        host = scratch + "/host"
        outside = scratch + "/outside"
        for directory in [root, host, outside, root + "/etc", root + "/tmp"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try "secret".write(toFile: outside + "/secret", atomically: false, encoding: .utf8)
        try "container passwd".write(toFile: root + "/etc/passwd", atomically: false, encoding: .utf8)
        rootFD = open(root, BSYS_O_PATH | O_DIRECTORY | O_CLOEXEC)
    }

    deinit {
        close(rootFD)
        try? FileSystem.removeTree(scratch)
    }

    /// Root maps every id; anyone else works as a single-id namespace does.
    var identities: CopyIdentities {
        let mapped = getuid() == 0 ? OwnershipPolicy.currentNamespace()
            : OwnershipPolicy(uids: [.init(first: getuid(), count: 1)], gids: [.init(first: getgid(), count: 1)])
        return CopyIdentities(mapped: mapped, caller: (getuid(), getgid()))
    }

    var container: ContainerTree { ContainerTree(root: rootFD, name: "c") }

    func link(_ path: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }

    func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    /// What `-` wrote, printed short when an expectation shows it.
    struct Output: CustomStringConvertible {
        let bytes: [UInt8]
        var description: String { "\(bytes.count) bytes of output" }
    }

    /// Runs one copy; `archive` is what `-` reads, and what `-` wrote is returned.
    @discardableResult
    func copy(_ direction: CopyOperation.Direction, follow: Bool = false, keep: Bool = false, archive: [UInt8] = []) throws -> Output {
        let input = scratch + "/input.tar"
        let output = scratch + "/output.tar"
        FileManager.default.createFile(atPath: input, contents: Data(archive))
        FileManager.default.createFile(atPath: output, contents: nil)
        let inFD = open(input, O_RDONLY)
        let outFD = open(output, O_WRONLY)
        defer { close(inFD) }
        do {
            defer { close(outFD) }
            _ = try CopyOperation(direction: direction, followLink: follow, keepOwners: keep)
                .run(container: container, identities: identities, input: inFD, output: outFD)
        }
        return Output(bytes: Array(FileManager.default.contents(atPath: output) ?? Data()))
    }

    /// Nothing was written outside: the outside directory is as it was made,
    /// and nothing appeared beside the scratch directory's three trees.
    func expectOutsideUntouched(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect((try? FileManager.default.contentsOfDirectory(atPath: outside)) == ["secret"], sourceLocation: sourceLocation)
        #expect(read(outside + "/secret") == "secret", sourceLocation: sourceLocation)
        let top = (try? FileManager.default.contentsOfDirectory(atPath: scratch).sorted()) ?? []
        #expect(top.allSatisfy { ["root", "host", "outside", "input.tar", "output.tar", "root2"].contains($0) }, "\(top)", sourceLocation: sourceLocation)
    }

    /// The members of a tar archive: "name type owner mode [target]".
    func listing(_ output: Output) throws -> [String] {
        let archive = output.bytes
        let file = scratch + "/listing.tar"
        FileManager.default.createFile(atPath: file, contents: Data(archive))
        defer { unlink(file) }
        let fd = open(file, O_RDONLY)
        defer { close(fd) }
        let stream = try LayerStream(source: .range(fd: fd, offset: 0, length: nil), displayName: "listing")
        var lines: [String] = []
        while let entry = try stream.next() {
            var line = "\(entry.displayPath) \(entry.kind) \(entry.uid):\(entry.gid) \(String(entry.mode, radix: 8))"
            if !entry.linkTarget.isEmpty { line += " " + String(decoding: entry.linkTarget, as: UTF8.self) }
            if entry.kind == .regular {
                var data: [UInt8] = []
                try stream.readData { block, _ in data += block }
                line += " " + String(decoding: data, as: UTF8.self)
            }
            lines.append(line)
        }
        return lines
    }
}

/// Containers that planted symlinks, `..` and absolute links to make
/// `burrow cp` read or write outside: everything stays inside the
/// container's root on its side and inside DEST on the host's.
struct CopyHostileTreeTests {
    @Test func writesIntoTheContainerFollowItsSymlinksOnlyInsideIt() throws {
        let scene = try CopyScene()
        try scene.link(scene.root + "/etc/x", to: "/")
        try FileManager.default.createDirectory(atPath: scene.root + "/a", withIntermediateDirectories: true)
        try scene.link(scene.root + "/a/b", to: "../../../../..")
        try scene.link(scene.root + "/abs", to: scene.outside)
        try scene.write(scene.host + "/f", "from the host")

        try scene.copy(.toContainer(from: .path(HostPath(scene.host + "/f")), ContainerPath("/etc/x/")))
        #expect(scene.read(scene.root + "/f") == "from the host")
        try scene.copy(.toContainer(from: .path(HostPath(scene.host + "/f")), ContainerPath("/a/b/g")))
        #expect(scene.read(scene.root + "/g") == "from the host")
        // The container's /abs names a host directory: inside the container it leads nowhere.
        #expect(throws: BurrowError.self) { try scene.copy(.toContainer(from: .path(HostPath(scene.host + "/f")), ContainerPath("/abs/"))) }
        #expect(throws: BurrowError.self) { try scene.copy(.toContainer(from: .path(HostPath(scene.host + "/f")), ContainerPath("/abs/secret"))) }
        scene.expectOutsideUntouched()
    }

    @Test func readsFromTheContainerFollowItsSymlinksOnlyInsideIt() throws {
        let scene = try CopyScene()
        try scene.link(scene.root + "/escape", to: "/")
        try scene.link(scene.root + "/pw", to: "/etc/passwd")
        try scene.link(scene.root + "/up", to: "../../../../../../..")
        try scene.link(scene.root + "/secret", to: scene.outside + "/secret")

        #expect(try scene.listing(scene.copy(.fromContainer(ContainerPath("/escape/etc/passwd"), to: .stream)))
                == ["passwd regular 0:0 644 container passwd"].map { $0.replacingOccurrences(of: "0:0", with: "\(scene.identities.caller.uid):\(scene.identities.caller.gid)") })
        #expect(try scene.listing(scene.copy(.fromContainer(ContainerPath("/pw"), to: .stream))).first?.hasSuffix("symlink \(getuid()):\(getgid()) 777 /etc/passwd") == true)
        let followed = try scene.listing(scene.copy(.fromContainer(ContainerPath("/pw"), to: .stream), follow: true))
        #expect(followed.count == 1 && followed[0].hasPrefix("pw regular") && followed[0].hasSuffix("container passwd"), "\(followed)")
        #expect(throws: BurrowError.self) { try scene.copy(.fromContainer(ContainerPath("/up" + scene.outside + "/secret"), to: .stream)) }
        #expect(throws: BurrowError.self) { try scene.copy(.fromContainer(ContainerPath("/secret"), to: .stream), follow: true) }
        #expect(throws: BurrowError.self) {
            try scene.copy(.fromContainer(ContainerPath("/secret"), to: .path(HostPath(scene.host + "/got"))), follow: true)
        }
        // Without -L the symlink itself comes out, pointing where it pointed; nothing is read through it.
        try scene.copy(.fromContainer(ContainerPath("/secret"), to: .path(HostPath(scene.host + "/got"))))
        #expect(try FileSystem.readLink(scene.host + "/got") == scene.outside + "/secret")
        scene.expectOutsideUntouched()
    }

    @Test func aSymlinkFromTheContainerIsNeverWrittenThroughOnTheHost() throws {
        let scene = try CopyScene()
        try FileManager.default.createDirectory(atPath: scene.root + "/d", withIntermediateDirectories: true)
        try scene.link(scene.root + "/d/l", to: scene.outside)
        try scene.link(scene.root + "/d/rel", to: "../../outside")
        try scene.copy(.fromContainer(ContainerPath("/d"), to: .path(HostPath(scene.host + "/out"))))
        #expect(try FileSystem.readLink(scene.host + "/out/l") == scene.outside)
        #expect(try FileSystem.readLink(scene.host + "/out/rel") == "../../outside")

        // The container now makes d/l a directory holding "secret", and d/rel a file.
        unlink(scene.root + "/d/l")
        unlink(scene.root + "/d/rel")
        try scene.write(scene.root + "/d/l/secret", "pwned")
        try scene.write(scene.root + "/d/rel", "pwned")
        #expect(throws: BurrowError.self) {
            try scene.copy(.fromContainer(ContainerPath("/d/."), to: .path(HostPath(scene.host + "/out"))))
        }
        // A file arriving where the host has a symlink replaces the symlink, never its target.
        unlink(scene.root + "/d/l/secret")
        rmdir(scene.root + "/d/l")
        try scene.copy(.fromContainer(ContainerPath("/d/."), to: .path(HostPath(scene.host + "/out"))))
        #expect(scene.read(scene.host + "/out/rel") == "pwned")
        #expect(bsys_is_reg((try FileSystem.linkStatus(scene.host + "/out/rel"))!.st_mode) != 0)
        scene.expectOutsideUntouched()
    }

    /// The reader holds a descriptor of each directory it walks: a name the
    /// container swaps for a symlink meanwhile is read as that symlink.
    @Test func aDirectorySwappedForASymlinkWhileReadingIsReadAsTheSymlink() throws {
        let scene = try CopyScene()
        try scene.write(scene.root + "/d/sub/file", "inside")
        let top = open(scene.root + "/d", BSYS_O_PATH | O_DIRECTORY | O_CLOEXEC)
        let reader = TreeReader(top: top, sameMount: true) { $0.description }
        let first = try #require(try reader.next())
        #expect(first.kind == .directory && first.path.isRoot)
        try FileManager.default.moveItem(atPath: scene.root + "/d/sub", toPath: scene.root + "/moved")
        try scene.link(scene.root + "/d/sub", to: scene.outside)
        var rest: [CopyEntry] = []
        while let entry = try reader.next() { rest.append(entry) }
        #expect(rest.map(\.path.description) == ["sub"])
        #expect(rest.first?.kind == .symlink)
        scene.expectOutsideUntouched()
    }

    /// The writer resolves each entry's directory again: one swapped for a
    /// symlink between two entries leads nowhere on the host, and back into
    /// the root in a container.
    @Test func aDirectorySwappedForASymlinkWhileWritingIsNotFollowedOut() throws {
        for confinement in [TreeWriter.Confinement.hostDirectory, .containerRoot] {
            let scene = try CopyScene()
            let target = confinement == .hostDirectory ? scene.host : scene.root
            let anchor = open(target, BSYS_O_PATH | O_DIRECTORY | O_CLOEXEC)
            defer { close(anchor) }
            let owner = (getuid(), getgid())
            let writer = TreeWriter(anchor: anchor, base: MemberPath(components: []), confinement: confinement,
                                    settings: .init(owners: .fixed(uid: owner.0, gid: owner.1), parentOwner: owner,
                                                    chownExistingDirectories: false, clearSetIDFor: nil)) { $0.description }
            let source = SwappingSource(entries: [
                CopyEntry(path: try MemberPath.clean("x"), kind: .directory, mode: 0o755, uid: owner.0, gid: owner.1, modified: FileTime(seconds: 0)),
                CopyEntry(path: try MemberPath.clean("x/secret"), kind: .regular, mode: 0o644, uid: owner.0, gid: owner.1, size: 5, modified: FileTime(seconds: 0)),
            ]) {
                try FileManager.default.removeItem(atPath: target + "/x")
                try scene.link(target + "/x", to: confinement == .hostDirectory ? scene.outside : "/")
            }
            var failed = false
            do {
                while let entry = try source.next() { try writer.write(entry, from: source) }
                try writer.finish()
            } catch {
                failed = true
            }
            switch confinement {
            case .hostDirectory:
                #expect(failed, "a symlink beneath the host directory is never followed")
            case .containerRoot:
                #expect(!failed && scene.read(scene.root + "/secret") == "pwned", "x -> / leads back to the container's root")
            }
            scene.expectOutsideUntouched()
        }
    }

    @Test func hostileArchivesAreRefusedOrStayInTheContainer() throws {
        let scene = try CopyScene()
        try FileManager.default.createDirectory(atPath: scene.root + "/dest", withIntermediateDirectories: true)
        for name in ["../escape", "a/../../escape", "../../../../../../tmp/escape"] {
            var tar = TarBuilder()
            tar.add("ok", .file("ok"))
            tar.add(name, .file("boom"))
            #expect { try scene.copy(.toContainer(from: .stream, ContainerPath("/dest")), archive: tar.finished()) } throws: {
                "\($0)".contains(name) && "\($0)".contains("climbs out")
            }
        }
        var hardlink = TarBuilder()
        hardlink.add("h", .hardlink("../../outside/secret"))
        #expect(throws: BurrowError.self) { try scene.copy(.toContainer(from: .stream, ContainerPath("/dest")), archive: hardlink.finished()) }

        var planted = TarBuilder()
        planted.add("/abs/file", .file("absolute"))
        planted.add("link", .symlink("/"))
        planted.add("link/etc/evil", .file("confined"))
        planted.add("up", .symlink("../../../../../.."))
        planted.add("up/evil2", .file("confined too"))
        planted.add("through", .hardlink("link/etc/passwd"))
        planted.add(".wh.file", .file("just a name"))
        try scene.copy(.toContainer(from: .stream, ContainerPath("/dest")), archive: planted.finished())
        #expect(scene.read(scene.root + "/dest/abs/file") == "absolute")
        #expect(scene.read(scene.root + "/etc/evil") == "confined")
        #expect(scene.read(scene.root + "/evil2") == "confined too")
        #expect(scene.read(scene.root + "/dest/through") == "container passwd")
        #expect(scene.read(scene.root + "/dest/.wh.file") == "just a name")
        scene.expectOutsideUntouched()
    }

    @Test func theHostNeverGetsASetuidFileOfTheCaller() throws {
        let scene = try CopyScene()
        try scene.write(scene.root + "/tool", "#!/bin/sh")
        chmod(scene.root + "/tool", 0o6755)
        chmod(scene.root + "/tmp", 0o1777)
        for keep in [false, true] {
            try scene.copy(.fromContainer(ContainerPath("/tool"), to: .path(HostPath(scene.host + "/tool-\(keep)"))), keep: keep)
            #expect((try FileSystem.linkStatus(scene.host + "/tool-\(keep)"))!.st_mode & 0o7777 == 0o755)
        }
        try scene.copy(.fromContainer(ContainerPath("/tmp"), to: .path(HostPath(scene.host + "/tmp"))))
        #expect((try FileSystem.linkStatus(scene.host + "/tmp"))!.st_mode & 0o7777 == 0o1777, "only files lose setuid and setgid")
        // Into the container they stay: they are the container's own.
        try scene.copy(.toContainer(from: .path(HostPath(scene.root + "/tool")), ContainerPath("/tool2")))
        #expect((try FileSystem.linkStatus(scene.root + "/tool2"))!.st_mode & 0o7777 == 0o6755)
    }

    @Test func anArchiveRoundTripKeepsNamesModesOwnersAndLinks() throws {
        let scene = try CopyScene()
        try scene.write(scene.root + "/d/f", "data")
        try scene.write(scene.root + "/d/sub/g", String(repeating: "x", count: 100_000))
        chmod(scene.root + "/d/f", 0o640)
        chmod(scene.root + "/d/sub", 0o750)
        link(scene.root + "/d/f", scene.root + "/d/hard")
        try scene.link(scene.root + "/d/l", to: "sub/g")
        mkfifo(scene.root + "/d/p", 0o600)
        let owned = getuid() == 0
        if owned { chown(scene.root + "/d/f", 5, 6) }

        let archive = try scene.copy(.fromContainer(ContainerPath("/d"), to: .stream))
        let listing = try scene.listing(archive)
        #expect(listing.map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
                == ["d/ directory", "d/f regular", "d/hard hardlink", "d/l symlink", "d/p fifo", "d/sub/ directory", "d/sub/g regular"])
        #expect(listing[1].contains(owned ? " 5:6 640 " : " 640 "), "\(listing[1])")
        #expect(listing[2].hasSuffix("d/f"), "a hard link names the first path in the archive: \(listing[2])")

        try FileManager.default.createDirectory(atPath: scene.root + "/copy", withIntermediateDirectories: true)
        try scene.copy(.toContainer(from: .stream, ContainerPath("/copy")), keep: true, archive: archive.bytes)
        let f = try #require(try FileSystem.linkStatus(scene.root + "/copy/d/f"))
        let hard = try #require(try FileSystem.linkStatus(scene.root + "/copy/d/hard"))
        #expect(f.st_ino == hard.st_ino && f.st_mode & 0o7777 == 0o640)
        if owned { #expect(f.st_uid == 5 && f.st_gid == 6) }
        #expect((try FileSystem.linkStatus(scene.root + "/copy/d/sub"))!.st_mode & 0o7777 == 0o750)
        #expect(try FileSystem.readLink(scene.root + "/copy/d/l") == "sub/g")
        #expect(scene.read(scene.root + "/copy/d/sub/g")?.count == 100_000)
        #expect(bsys_is_fifo((try FileSystem.linkStatus(scene.root + "/copy/d/p"))!.st_mode) != 0)

        // Without -a, everything that lands in the container is its root's.
        try FileManager.default.createDirectory(atPath: scene.root + "/copy2", withIntermediateDirectories: true)
        try scene.copy(.toContainer(from: .stream, ContainerPath("/copy2/")), archive: archive.bytes)
        if owned { #expect((try FileSystem.linkStatus(scene.root + "/copy2/d/f"))?.st_uid == 0) }
    }

    @Test func destinationsAsDockerTreatsThem() throws {
        let scene = try CopyScene()
        try scene.write(scene.root + "/d/a", "a")
        try scene.write(scene.root + "/file", "file")
        try FileManager.default.createDirectory(atPath: scene.host + "/existing", withIntermediateDirectories: true)
        func ls(_ path: String) -> [String] { ((try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []).sorted() }

        try scene.copy(.fromContainer(ContainerPath("/d/."), to: .path(HostPath(scene.host + "/existing"))))
        #expect(ls(scene.host + "/existing") == ["a"])
        try scene.copy(.fromContainer(ContainerPath("/d"), to: .path(HostPath(scene.host + "/existing"))))
        #expect(ls(scene.host + "/existing") == ["a", "d", "d/a"])
        try scene.copy(.fromContainer(ContainerPath("/d"), to: .path(HostPath(scene.host + "/new/"))))
        #expect(ls(scene.host + "/new") == ["a"])
        try scene.copy(.fromContainer(ContainerPath("/file"), to: .path(HostPath(scene.host + "/existing/a"))))
        #expect(scene.read(scene.host + "/existing/a") == "file")
        #expect(throws: BurrowError.self) { try scene.copy(.fromContainer(ContainerPath("/file"), to: .path(HostPath(scene.host + "/missing/")))) }
        #expect(throws: BurrowError.self) { try scene.copy(.fromContainer(ContainerPath("/d"), to: .path(HostPath(scene.host + "/existing/a")))) }
        #expect(throws: BurrowError.self) { try scene.copy(.fromContainer(ContainerPath("/file/"), to: .path(HostPath(scene.host + "/x")))) }
        #expect(throws: BurrowError.self) { try scene.copy(.fromContainer(ContainerPath("/d"), to: .path(HostPath(scene.host + "/no/such/dir")))) }
        #expect(throws: BurrowError.self) { try scene.copy(.fromContainer(ContainerPath("/nothing"), to: .path(HostPath(scene.host + "/x")))) }
        // A directory may not replace a file, nor a file a directory.
        try scene.write(scene.host + "/clash/d", "a file where a directory arrives")
        #expect(throws: BurrowError.self) { try scene.copy(.fromContainer(ContainerPath("/d"), to: .path(HostPath(scene.host + "/clash")))) }
        try FileManager.default.createDirectory(atPath: scene.root + "/tmp/file", withIntermediateDirectories: true)
        #expect(throws: BurrowError.self) { try scene.copy(.toContainer(from: .path(HostPath(scene.root + "/file")), ContainerPath("/tmp"))) }
        // Into the container, a missing directory is created from a directory.
        try scene.copy(.toContainer(from: .path(HostPath(scene.root + "/d")), ContainerPath("/made")))
        #expect(scene.read(scene.root + "/made/a") == "a")
        scene.expectOutsideUntouched()
    }
}

/// Hands out entries, and runs `swap` just before the second one.
final class SwappingSource: CopySource {
    var entries: [CopyEntry]
    let swap: () throws -> Void
    var given = 0

    init(entries: [CopyEntry], swap: @escaping () throws -> Void) {
        self.entries = entries
        self.swap = swap
    }

    func next() throws -> CopyEntry? {
        guard given < entries.count else { return nil }
        if given == 1 { try swap() }
        given += 1
        return entries[given - 1]
    }

    func readData(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws {
        try Array("pwned".utf8).withUnsafeBytes { try body($0, 0) }
    }

    var currentFile: Int32? { nil }
}
