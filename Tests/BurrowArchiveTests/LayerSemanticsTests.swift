import BurrowArchive
import BurrowSystem
import BurrowTestSupport
import CBurrowSys
import Foundation
import Glibc
import Testing

struct LayerSemanticsTests {
    /// BC-01: the opaque marker after a/z still empties only what is below,
    /// and no ".wh." name is ever created.
    @Test(arguments: [WhiteoutFormat.overlay, .aufs])
    func opaqueMarkerAfterContent(format: WhiteoutFormat) throws {
        var tar = TarBuilder()
        tar.add("a/", .directory)
        tar.add("a/z", .file("z"))
        tar.add("a/.wh..wh..opq", .file(""))
        tar.add(".wh.gone", .file(""))
        let layer = try Unpacked.unpack(tar.finished(), whiteouts: format)
        defer { layer.cleanUp() }
        #expect(layer.exists("a/z"))
        switch format {
        case .overlay:
            var value: UInt8 = 0
            #expect(bsys_lgetxattr(layer.path("a"), "user.overlay.opaque", &value, 1) == 1 && value == UInt8(ascii: "y"))
            #expect(!layer.exists("a/.wh..wh..opq"))
            let whiteout = try #require(layer.status("gone"))
            #expect(bsys_is_chr(whiteout.st_mode) != 0 && whiteout.st_rdev == 0)
        case .aufs:
            #expect(layer.exists("a/.wh..wh..opq"))
            #expect(layer.exists(".wh.gone"))
        }
    }

    /// BC-08: setuid, setgid and sticky bits are what the layer says.
    @Test func specialModesSurvive() throws {
        var tar = TarBuilder()
        tar.add("usr/bin/sudo", .file("x"), mode: 0o4111)
        tar.add("usr/bin/su", .file("x"), mode: 0o4755)
        tar.add("usr/bin/wall", .file("x"), mode: 0o2755, gid: getuid() == 0 ? 5 : 0)
        tar.add("tmp/", .directory, mode: 0o1777)
        let layer = try Unpacked.unpack(tar.finished())
        defer { layer.cleanUp() }
        #expect(layer.status("usr/bin/sudo")!.st_mode & 0o7777 == 0o4111)
        #expect(layer.status("usr/bin/su")!.st_mode & 0o7777 == 0o4755)
        #expect(layer.status("usr/bin/wall")!.st_mode & 0o7777 == 0o2755)
        #expect(layer.status("tmp")!.st_mode & 0o7777 == 0o1777)
    }

    /// BC-07: a file capability in a PAX record is set after the owner.
    @Test(.enabled(if: getuid() == 0, "setting security.capability needs root (or a user namespace), as in the integration tests"))
    func fileCapabilitiesAreKept() throws {
        // cap_net_raw+p, VFS_CAP_REVISION_2
        let capability: [UInt8] = [0x00, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        var tar = TarBuilder()
        tar.add("usr/bin/ping", .file("x"), mode: 0o755, uid: 0, gid: 0, pax: [("SCHILY.xattr.security.capability", capability)])
        let layer = try Unpacked.unpack(tar.finished())
        defer { layer.cleanUp() }
        var value = [UInt8](repeating: 0, count: 32)
        let length = bsys_lgetxattr(layer.path("usr/bin/ping"), "security.capability", &value, value.count)
        #expect(length == 20)
        #expect(Array(value.prefix(8)) == Array(capability.prefix(8)))
        #expect(layer.statistics.warnings.isEmpty)
    }

    @Test func longNamesAndUserAttributesAreKept() throws {
        let long = String(repeating: "d/", count: 40) + String(repeating: "n", count: 60)
        var tar = TarBuilder()
        tar.add(long, .file("deep"), pax: [("SCHILY.xattr.user.note", Array("kept".utf8)), ("SCHILY.xattr.user.overlay.opaque", Array("y".utf8))])
        let layer = try Unpacked.unpack(tar.finished())
        defer { layer.cleanUp() }
        #expect(try String(contentsOfFile: layer.path(long), encoding: .utf8) == "deep")
        var value = [UInt8](repeating: 0, count: 16)
        #expect(bsys_lgetxattr(layer.path(long), "user.note", &value, 16) == 4)
        // An archive may not forge overlay's own attributes.
        #expect(bsys_lgetxattr(layer.path(long), "user.overlay.opaque", &value, 16) < 0)
    }

    /// BC-05: an owner outside the mapped range names the file, the owner and the range.
    @Test func ownerOutsideTheRangeIsAnError() throws {
        var tar = TarBuilder()
        tar.add("usr/local/bin/tool", .file("x"), uid: 205001, gid: 5000)
        let policy = OwnershipPolicy(uids: [.init(first: 0, count: 65537)], gids: [.init(first: 0, count: 65537)])
        #expect {
            try Unpacked.unpack(tar.finished(), policy: policy).cleanUp()
        } throws: { error in
            let text = "\(error)"
            return text.contains("usr/local/bin/tool") && text.contains("205001:5000") && text.contains("0-65536")
        }
    }

    @Test func singleIDModeKeepsEveryFileWithoutError() throws {
        var tar = TarBuilder()
        tar.add("etc/gshadow", .file("x"), mode: 0o640, uid: 0, gid: 42)
        tar.add("home/app/", .directory, uid: 1000, gid: 1000)
        let single = OwnershipPolicy(uids: [.init(first: 0, count: 1)], gids: [.init(first: 0, count: 1)])
        let layer = try Unpacked.unpack(tar.finished(), policy: single)
        defer { layer.cleanUp() }
        #expect(layer.status("etc/gshadow")?.st_uid == getuid())
        #expect(layer.status("etc/gshadow")!.st_mode & 0o777 == 0o640)
        #expect(layer.status("home/app")?.st_uid == getuid())
    }

    @Test func digestsCoverTheBlobAndTheTar() throws {
        var tar = TarBuilder()
        tar.add("hello", .file("world"))
        let plain = tar.finished()
        let gz = try Fixtures.gzip(plain)
        let layer = try Unpacked.unpack(gz)
        defer { layer.cleanUp() }
        #expect(layer.digests.blobDigest == (try Fixtures.sha256(gz)))
        #expect(layer.digests.blobSize == Int64(gz.count))
        #expect(layer.digests.diffID == (try Fixtures.sha256(plain)))
        let zst = try Fixtures.zstd(plain)
        let zLayer = try Unpacked.unpack(zst)
        defer { zLayer.cleanUp() }
        #expect(zLayer.digests.diffID == (try Fixtures.sha256(plain)))
        #expect(try String(contentsOfFile: zLayer.path("hello"), encoding: .utf8) == "world")
    }
}
