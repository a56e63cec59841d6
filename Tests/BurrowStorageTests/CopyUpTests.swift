import BurrowArchive
import BurrowStorage
import BurrowSystem
import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// A new volume is filled with what the image shows at its target: the
/// merged directory, whiteouts and opaque directories applied, symlinks on
/// the way resolved inside the image.
struct CopyUpTests {
    func image(_ format: WhiteoutFormat, in scratch: String) throws -> LayeredFileReader {
        var bottom = TarBuilder()
        bottom.add("data/", .directory, mode: 0o750)
        bottom.add("data/a", .file("a"))
        bottom.add("data/b", .file("b"))
        bottom.add("data/sub/", .directory)
        bottom.add("data/sub/c", .file("c"), mode: 0o600)
        bottom.add("etc/", .directory)
        bottom.add("etc/conf", .file("conf"))
        bottom.add("link", .symlink("data"))
        bottom.add("abs", .symlink("/data/sub"))
        bottom.add("loop", .symlink("loop"))
        bottom.add("opq/", .directory)
        bottom.add("opq/x", .file("x"))
        bottom.add("gone/", .directory)
        bottom.add("gone/file", .file("g"))
        bottom.add("file", .file("f"))
        var top = TarBuilder()
        top.add("data/", .directory, mode: 0o700)
        top.add("data/.wh.b", .file(""))
        top.add("data/d", .file("d"))
        top.add("opq/", .directory)
        top.add("opq/.wh..wh..opq", .file(""))
        top.add("opq/y", .file("y"))
        top.add(".wh.gone", .file(""))
        try MergeTests().unpack(bottom, into: scratch + "/l1", format: format)
        try MergeTests().unpack(top, into: scratch + "/l2", format: format)
        return LayeredFileReader(layers: [.init(tree: scratch + "/l1", whiteouts: format), .init(tree: scratch + "/l2", whiteouts: format)])
    }

    func listing(_ path: String) -> [String] { (FileManager.default.subpaths(atPath: path) ?? []).sorted() }

    @Test(arguments: [WhiteoutFormat.overlay, .aufs])
    func pathsResolveAsInTheContainer(format: WhiteoutFormat) throws {
        let scratch = Fixtures.temporaryDirectory("burrow-copyup")
        defer { try? FileSystem.removeTree(scratch) }
        let reader = try image(format, in: scratch)
        #expect(reader.resolveDirectory("/data") == ["data"])
        #expect(reader.resolveDirectory("/data/") == ["data"])
        #expect(reader.resolveDirectory("/link") == ["data"])
        #expect(reader.resolveDirectory("/abs") == ["data", "sub"])
        #expect(reader.resolveDirectory("/link/sub/../../etc") == ["etc"])
        #expect(reader.resolveDirectory("/../../etc") == ["etc"], "\"..\" stops at the root")
        #expect(reader.resolveDirectory("/gone") == nil, "a whiteout hides it")
        #expect(reader.resolveDirectory("/file") == nil)
        #expect(reader.resolveDirectory("/data/a") == nil)
        #expect(reader.resolveDirectory("/nothing") == nil)
        #expect(reader.resolveDirectory("/loop") == nil)
    }

    @Test(arguments: [WhiteoutFormat.overlay, .aufs])
    func theMergedDirectoryIsCopied(format: WhiteoutFormat) throws {
        let scratch = Fixtures.temporaryDirectory("burrow-copyup")
        defer { try? FileSystem.removeTree(scratch) }
        let reader = try image(format, in: scratch)
        for (path, expected) in [("/data", ["a", "d", "sub", "sub/c"]), ("/link", ["a", "d", "sub", "sub/c"]), ("/opq", ["y"]), ("/abs", ["c"])] {
            let volume = scratch + "/volume-\(path.dropFirst())"
            try FileSystem.makeDirectory(volume, mode: 0o755)
            #expect(try reader.copyDirectory(path, to: volume))
            #expect(listing(volume) == expected, "\(path)")
        }
        var st = stat()
        #expect(stat(scratch + "/volume-data", &st) == 0 && st.st_mode & 0o7777 == 0o700, "the topmost directory's mode")
        #expect(stat(scratch + "/volume-data/sub/c", &st) == 0 && st.st_mode & 0o7777 == 0o600)
        #expect(try FileSystem.readText(scratch + "/volume-data/d") == "d")

        let untouched = scratch + "/volume-none"
        try FileSystem.makeDirectory(untouched, mode: 0o755)
        #expect(try !reader.copyDirectory("/gone", to: untouched))
        #expect(try !reader.copyDirectory("/nothing", to: untouched))
        #expect(stat(untouched, &st) == 0 && st.st_mode & 0o7777 == 0o755 && listing(untouched).isEmpty)
    }
}
