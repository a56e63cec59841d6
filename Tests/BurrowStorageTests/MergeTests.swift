import BurrowArchive
import BurrowStorage
import BurrowSystem
import BurrowTestSupport
import CBurrowSys
import Foundation
import Glibc
import Testing

/// The vfs copy must show exactly what overlayfs shows: the same layers,
/// merged by both, give the same tree.
struct MergeTests {
    static var policy: OwnershipPolicy {
        getuid() == 0 ? .currentNamespace() : OwnershipPolicy(uids: [.init(first: 0, count: 1)], gids: [.init(first: 0, count: 1)])
    }

    func unpack(_ tar: TarBuilder, into root: String, format: WhiteoutFormat) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let blob = root + ".tar"
        FileManager.default.createFile(atPath: blob, contents: Data(tar.finished()))
        let fd = open(blob, O_RDONLY)
        defer { close(fd) }
        let stream = try LayerStream(source: .range(fd: fd, offset: 0, length: nil), displayName: "test")
        _ = try LayerUnpacker(root: root, whiteouts: format, ownership: MergeTests.policy).unpack(stream)
    }

    func layers() -> (TarBuilder, TarBuilder) {
        var bottom = TarBuilder()
        bottom.add("a/", .directory)
        bottom.add("a/x", .file("x"))
        bottom.add("a/y", .file("y"))
        bottom.add("etc/", .directory)
        bottom.add("etc/passwd", .file("root:x:0:0:root:/root:/bin/sh\n"))
        bottom.add("etc/hidden", .file("h"))
        bottom.add("lib", .symlink("usr/lib"))
        bottom.add("usr/lib/libc.so", .file("libc"))
        bottom.add("keep/", .directory)
        bottom.add("keep/file", .file("k"))
        var top = TarBuilder()
        top.add("a/", .directory)
        top.add("a/z", .file("z"))
        top.add("a/.wh..wh..opq", .file(""))
        top.add("etc/.wh.hidden", .file(""))
        top.add("keep/new", .file("n"))
        return (bottom, top)
    }

    @Test(arguments: [WhiteoutFormat.overlay, .aufs])
    func mergedTreeAppliesWhiteoutsAndOpaqueDirectories(format: WhiteoutFormat) throws {
        let scratch = Fixtures.temporaryDirectory("burrow-merge")
        defer { try? FileSystem.removeTree(scratch) }
        let (bottom, top) = layers()
        try unpack(bottom, into: scratch + "/l1", format: format)
        try unpack(top, into: scratch + "/l2", format: format)
        let merged = scratch + "/merged"
        try FileManager.default.createDirectory(atPath: merged, withIntermediateDirectories: true)
        for layer in ["l1", "l2"] {
            var copier = TreeCopier(whiteouts: .apply(format))
            try copier.copy(from: scratch + "/" + layer, to: merged)
        }
        let listing = (FileManager.default.subpaths(atPath: merged) ?? []).sorted()
        #expect(listing == ["a", "a/z", "etc", "etc/passwd", "keep", "keep/file", "keep/new", "lib", "usr", "usr/lib", "usr/lib/libc.so"])
        #expect(try FileSystem.readLink(merged + "/lib") == "usr/lib")
    }

    @Test func layeredReaderSeesTheTopmostVisibleFile() throws {
        let scratch = Fixtures.temporaryDirectory("burrow-reader")
        defer { try? FileSystem.removeTree(scratch) }
        let (bottom, top) = layers()
        try unpack(bottom, into: scratch + "/l1", format: .overlay)
        try unpack(top, into: scratch + "/l2", format: .overlay)
        let reader = LayeredFileReader(layers: [.init(tree: scratch + "/l1", whiteouts: .overlay), .init(tree: scratch + "/l2", whiteouts: .overlay)])
        #expect(reader.read("/etc/passwd").map { String(decoding: $0, as: UTF8.self) }?.hasPrefix("root:") == true)
        #expect(reader.read("/etc/hidden") == nil)
        #expect(reader.read("/a/x") == nil)
        #expect(reader.read("/a/z") != nil)
        #expect(reader.read("/keep/file") != nil)
    }

    @Test func aCopyWithSwappedOwnersKeepsEverythingElse() throws {
        let scratch = Fixtures.temporaryDirectory("burrow-shift")
        defer { try? FileSystem.removeTree(scratch) }
        var tar = TarBuilder()
        tar.add("bin/su", .file("x"), mode: 0o4755)
        tar.add("a/.wh..wh..opq", .file(""))
        try unpack(tar, into: scratch + "/l1", format: .overlay)
        let me = getuid()
        try FileManager.default.createDirectory(atPath: scratch + "/copy", withIntermediateDirectories: true)
        var copier = TreeCopier(whiteouts: .keep) { uid, gid in (uid, gid) }
        try copier.copy(from: scratch + "/l1", to: scratch + "/copy")
        var st = stat()
        #expect(lstat(scratch + "/copy/bin/su", &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o4755)
        #expect(st.st_uid == me)
        var value: UInt8 = 0
        #expect(bsys_lgetxattr(scratch + "/copy/a", "user.overlay.opaque", &value, 1) == 1)
    }
}
