import BurrowArchive
import BurrowSystem
import BurrowTestSupport
import CBurrowSys
import Foundation
import Glibc
import Testing

/// Layers from PITFALLS.md and worse: nothing may land outside the layer.
struct HostileLayerTests {
    /// BC-03: a symlink to /etc, then a file "through" it.
    @Test func symlinkToAbsolutePathIsFollowedInsideTheLayer() throws {
        var tar = TarBuilder()
        tar.add("usr/", .directory)
        tar.add("usr/lib/", .directory)
        tar.add("usr/lib/x", .symlink("/etc"))
        tar.add("usr/lib/x/cron.d/evil", .file("boom"))
        tar.add("usr/lib/y", .symlink("../../../../tmp"))
        tar.add("usr/lib/y/evil2", .file("boom"))
        tar.add("usr/local/bin/ld", .symlink("../lib/ld-linux-x86-64.so.2"))
        let layer = try Unpacked.unpack(tar.finished())
        defer { layer.cleanUp() }
        #expect(try String(contentsOfFile: layer.path("etc/cron.d/evil"), encoding: .utf8) == "boom")
        #expect(try String(contentsOfFile: layer.path("tmp/evil2"), encoding: .utf8) == "boom")
        #expect(try FileSystem.readLink(layer.path("usr/lib/x")) == "/etc")
        #expect(try FileSystem.readLink(layer.path("usr/local/bin/ld")) == "../lib/ld-linux-x86-64.so.2")
        #expect(layer.scratchListing().allSatisfy { $0 == "blob" || $0.hasPrefix("layer") })
        #expect(!FileManager.default.fileExists(atPath: "/etc/cron.d/evil"))
    }

    /// BC-04: "./", "/", absolute names and absolute hard-link targets are
    /// fine; a name that climbs out is refused, naming the member.
    @Test func oddNamesAreCleanedAndClimbingIsRefused() throws {
        var tar = TarBuilder()
        tar.add("./", .directory, mode: 0o755)
        tar.add("/", .directory, mode: 0o755)
        tar.add("/abs/file", .file("abs"))
        tar.add("bin/busybox", .file("#!/bin/true"), mode: 0o755)
        tar.add("bin/sh", .hardlink("/bin/busybox"))
        let layer = try Unpacked.unpack(tar.finished())
        defer { layer.cleanUp() }
        #expect(try String(contentsOfFile: layer.path("abs/file"), encoding: .utf8) == "abs")
        #expect(layer.status("bin/sh")?.st_ino == layer.status("bin/busybox")?.st_ino)

        var escape = TarBuilder()
        escape.add("ok", .file("ok"))
        escape.add("../escape", .file("boom"))
        #expect {
            try Unpacked.unpack(escape.finished()).cleanUp()
        } throws: { error in
            "\(error)".contains("../escape") && "\(error)".contains("climbs out")
        }
    }

    @Test func hardLinksOutOfTheLayerAreRefused() throws {
        var outside = TarBuilder()
        outside.add("passwd", .hardlink("../../../../etc/passwd"))
        #expect(throws: ArchiveError.self) { try Unpacked.unpack(outside.finished()).cleanUp() }

        var missing = TarBuilder()
        missing.add("link", .hardlink("not/here"))
        #expect { try Unpacked.unpack(missing.finished()).cleanUp() } throws: { "\($0)".contains("does not hold") }

        // A hard link through a symlink to the host is resolved inside the layer.
        var through = TarBuilder()
        through.add("etc", .symlink("/etc"))
        through.add("shadow", .hardlink("etc/shadow"))
        #expect(throws: ArchiveError.self) { try Unpacked.unpack(through.finished()).cleanUp() }
    }

    @Test func aSymlinkReplacedByAFileDoesNotWriteThroughIt() throws {
        var tar = TarBuilder()
        tar.add("target/", .directory)
        tar.add("link", .symlink("/tmp"))
        tar.add("link", .file("replaced"))
        let layer = try Unpacked.unpack(tar.finished())
        defer { layer.cleanUp() }
        #expect(try String(contentsOfFile: layer.path("link"), encoding: .utf8) == "replaced")
        #expect(bsys_is_reg(layer.status("link")!.st_mode) != 0)
    }

    @Test func truncatedAndForeignDataAreErrors() throws {
        var tar = TarBuilder()
        tar.add("big", .file(String(repeating: "x", count: 5000)))
        let whole = tar.finished()
        #expect(throws: ArchiveError.self) { try Unpacked.unpack(Array(whole.prefix(1500))).cleanUp() }
        #expect(throws: ArchiveError.self) { try Unpacked.unpack(Array("this is not a tar archive at all, just text".utf8) + [UInt8](repeating: 7, count: 600)).cleanUp() }
        let gz = try Fixtures.gzip(whole)
        #expect(throws: ArchiveError.self) { try Unpacked.unpack(Array(gz.prefix(gz.count / 2))).cleanUp() }
    }
}
