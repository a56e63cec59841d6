import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// Images in: both archive formats, import, tags, removal, and bad input
/// that must leave the store as it was.
extension Integration {
@Suite struct ImageTests {
    static let busyboxID = "sha256:382fa8fc672313ea4ba4dedea6491528b6be3922c29756cdc52a8272d0009bff"
    static let busyboxLayer = "sha256:a13be80e6f98497660daca43e008f865cb62d2101ff2fbebf03fcbc4f1c478c9"

    /// The busybox rootfs layer, uncompressed, from the docker-archive fixture.
    static let busyboxLayerTar: [UInt8] = {
        let out = try! Fixtures.pipe([], through: "/bin/tar", ["-xOf", "\(Runner.images)/busybox.docker.tar", "\(busyboxLayer.dropFirst(7))/layer.tar"])
        precondition(out.count > 1_000_000, "could not read the busybox layer")
        return out
    }()

    static func write(_ bytes: [UInt8], name: String) -> String {
        let directory = Fixtures.temporaryDirectory("burrow-it-archive")
        chmod(directory, 0o755)
        let path = "\(directory)/\(name)"
        FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o644])
        return path
    }

    @Test(arguments: TestUser.all)
    func bothArchiveFormatsLoadTheSameImage(user: TestUser) throws {
        let runner = try Runner.fresh(user, tag: "formats")
        let oci = try runner.burrow("load", "-i", "\(Runner.images)/busybox.oci.tar")
        #expect(oci.code == 0 && oci.out == "Loaded image: busybox:latest\n", "\(oci)")
        let docker = try runner.burrow("load", stdinFile: "\(Runner.images)/busybox.docker.tar")
        #expect(docker.code == 0 && docker.out == "Loaded image: busybox:latest\n", "\(docker)")
        // From a pipe, compressed: spooled and decompressed first.
        let piped = try runner.burrow("load", stdin: try Fixtures.gzip(Array(try Data(contentsOf: URL(fileURLWithPath: "\(Runner.images)/busybox.docker.tar")))))
        #expect(piped.code == 0 && piped.out == "Loaded image: busybox:latest\n", "\(piped)")
        let images = try runner.burrow("images", "--format", "json")
        let rows = images.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.count == 1)
        #expect(rows.first?["Repository"] as? String == "busybox" && rows.first?["Tag"] as? String == "latest" && rows.first?["ID"] as? String == "382fa8fc6723")
        #expect(try runner.burrow("images", "-q").out == "382fa8fc6723\n")
        let inspect = try runner.burrow("inspect", "busybox")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(inspect.out.utf8)) as? [[String: Any]])
        #expect(document.first?["Id"] as? String == ImageTests.busyboxID)
        #expect((document.first?["RootFS"] as? [String: Any])?["Layers"] as? [String] == [ImageTests.busyboxLayer])
        #expect(((document.first?["Config"] as? [String: Any])?["Cmd"] as? [String]) == ["sh"])
        #expect(try runner.burrow("run", "--rm", "382fa8fc", "true").code == 0)
        // One layer directory, shared.
        #expect(try runner.sh("ls '\(runner.store)/layers'").out == "\(ImageTests.busyboxLayer.dropFirst(7))\n")
    }

    @Test(arguments: TestUser.all)
    func tagsAndRemoval(user: TestUser) throws {
        let runner = try Runner.fresh(user, tag: "rmi")
        #expect(try runner.burrow("load", "-q", "-i", "\(Runner.images)/busybox.oci.tar").code == 0)
        #expect(try runner.burrow("tag", "busybox", "localhost/mybox:1").code == 0)
        #expect(try runner.burrow("images", "--format", "{{.Repository}}:{{.Tag}}").lines.sorted() == ["busybox:latest", "localhost/mybox:1"])
        let untag = try runner.burrow("rmi", "localhost/mybox:1")
        #expect(untag.out == "Untagged: localhost/mybox:1\n", "\(untag)")
        #expect(try runner.burrow("run", "--name", "user-of-busybox", "busybox", "true").code == 0)
        let refused = try runner.burrow("rmi", "busybox")
        #expect(refused.code == 125 && refused.err.contains("user-of-busybox"), "\(refused)")
        #expect(try runner.burrow("rm", "user-of-busybox").code == 0)
        let removed = try runner.burrow("rmi", "busybox")
        #expect(removed.code == 0 && removed.out.contains("Deleted: \(ImageTests.busyboxID)") && removed.out.contains("Deleted: \(ImageTests.busyboxLayer)"), "\(removed)")
        #expect(try runner.sh("ls -A '\(runner.store)/layers' '\(runner.store)/images' '\(runner.store)/tmp' | grep -v ':$' | grep -v '^$' || true").out.isEmpty)
        let gone = try runner.burrow("rmi", "busybox")
        #expect(gone.code == 125 && gone.err == "burrow: no such image: busybox (burrow images lists them)\n", "\(gone)")
    }

    @Test(arguments: TestUser.all)
    func importMakesARunnableImage(user: TestUser) throws {
        let runner = try Runner.fresh(user, tag: "import")
        let plain = ImageTests.write(ImageTests.busyboxLayerTar, name: "rootfs.tar")
        let imported = try runner.burrow("import", plain, "localhost/imported:1")
        #expect(imported.code == 0 && imported.out.hasPrefix("sha256:"), "\(imported)")
        let ran = try runner.burrow("run", "--rm", "localhost/imported:1", "/bin/busybox", "echo", "imported")
        #expect(ran.out == "imported\n", "\(ran)")
        let gz = ImageTests.write(try Fixtures.gzip(ImageTests.busyboxLayerTar), name: "rootfs.tar.gz")
        let piped = try runner.burrow("import", "-m", "from a pipe", "-", "piped", stdin: Array(try Data(contentsOf: URL(fileURLWithPath: gz))))
        #expect(piped.code == 0, "\(piped)")
        let inspect = try runner.burrow("inspect", "--format", "{{.Id}}", "piped")
        #expect(inspect.out.hasPrefix("sha256:"))
        #expect(try runner.burrow("run", "--rm", "piped", "/bin/sh", "-c", "echo $PATH").out.hasPrefix("/usr/local/sbin"))

        // A cut archive is named as the file the user gave, with what to do, and leaves nothing.
        let before = runner.storeListing
        let cut = ImageTests.write(Array(ImageTests.busyboxLayerTar.prefix(200_000)), name: "cut.tar")
        let broken = try runner.burrow("import", cut, "localhost/cut:1")
        #expect(broken.code == 125 && broken.err.hasPrefix("burrow: \(cut) is truncated or corrupt") && broken.err.contains("make the archive again"), "\(broken)")
        #expect(runner.storeListing == before)
    }

    /// Whiteouts and opaque directories (BC-01), on both drivers.
    @Test(arguments: TestUser.all)
    func whiteoutsAndOpaqueDirectories(user: TestUser) throws {
        var second = TarBuilder()
        second.add("a/", .directory)
        second.add("a/x", .file("x"))
        second.add("a/y", .file("y"))
        second.add("etc/hidden", .file("h"))
        second.add("keep/old", .file("o"))
        var third = TarBuilder()
        third.add("a/", .directory)
        third.add("a/z", .file("z"))
        third.add("a/.wh..wh..opq", .file(""))
        third.add("etc/.wh.hidden", .file(""))
        third.add("keep/new", .file("n"))
        var builder = OCIArchiveBuilder()
        builder.layers = [ImageTests.busyboxLayerTar, second.finished(), third.finished()]
        builder.reference = "localhost/layered:1"
        let archive = ImageTests.write(try builder.build(), name: "layered.tar")
        let runner = try Runner.shared(user)
        #expect(try runner.burrow("load", "-q", "-i", archive).code == 0)
        for driver in ["overlay", "vfs"] {
            let listing = try runner.burrow("--storage-driver", driver, "run", "--rm", "localhost/layered:1", "sh", "-c", "ls -A /a /keep; test -e /etc/hidden && echo leaked; ls -A / | grep -c '^.wh.'")
            #expect(listing.out == "/a:\nz\n\n/keep:\nnew\nold\n0\n", "\(driver): \(listing)")
        }
    }

    /// BC-07: a file capability survives unpacking and works for a non-root user.
    @Test(arguments: TestUser.all)
    func fileCapabilitiesWork(user: TestUser) throws {
        let busybox = try Fixtures.pipe(ImageTests.busyboxLayerTar, through: "/bin/tar", ["-xOf", "-", "bin/busybox"])
        // cap_net_raw+ep
        let capability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        var extra = TarBuilder()
        extra.add("usr/local/bin/ping", .bytes(busybox), mode: 0o755, pax: [("SCHILY.xattr.security.capability", capability)])
        var builder = OCIArchiveBuilder()
        builder.layers = [ImageTests.busyboxLayerTar, extra.finished()]
        builder.reference = "localhost/pinger:1"
        let archive = ImageTests.write(try builder.build(), name: "pinger.tar")
        let runner = try Runner.shared(user)
        let loaded = try runner.burrow("load", "-i", archive)
        #expect(loaded.code == 0 && !loaded.err.contains("could not keep"), "\(loaded)")
        let user = user.kind == .subordinate ? "nobody" : "0"
        let with = try runner.burrow("run", "--rm", "-u", user, "localhost/pinger:1", "/usr/local/bin/ping", "-c", "1", "-W", "2", "127.0.0.1")
        #expect(with.code == 0, "\(with)")
        if user == "nobody" {
            let without = try runner.burrow("run", "--rm", "-u", "nobody", "localhost/pinger:1", "/bin/ping", "-c", "1", "-W", "2", "127.0.0.1")
            #expect(without.code != 0, "plain ping as nobody should lack CAP_NET_RAW: \(without)")
        }
    }

    /// Hostile and damaged archives: a one-line error, exit 125, and the
    /// store exactly as before.
    @Test(arguments: TestUser.all)
    func badArchivesLeaveTheStoreAsItWas(user: TestUser) throws {
        let runner = try Runner.fresh(user, tag: "bad")
        #expect(try runner.burrow("load", "-q", "-i", "\(Runner.images)/busybox.oci.tar").code == 0)
        let before = runner.storeListing

        var hostile = TarBuilder()
        hostile.add("ok", .file("fine"))
        hostile.add("../../escape", .file("boom"))
        var small = TarBuilder()
        small.add("hello", .file("world"))
        var builder = OCIArchiveBuilder()
        builder.layers = [small.finished()]
        var hostileBuilder = builder
        hostileBuilder.layers = [small.finished(), hostile.finished()]
        var plainBuilder = builder
        plainBuilder.compress = false

        let oci = try Data(contentsOf: URL(fileURLWithPath: "\(Runner.images)/busybox.oci.tar"))
        let cases: [(String, [UInt8], String)] = [
            ("hostile", try hostileBuilder.build(), "climbs out"),
            ("truncated", Array(oci.prefix(oci.count * 6 / 10)), "truncated"),
            ("digest", try plainBuilder.build(damage: .layerDigest), "digest"),
            ("diffid", try builder.build(damage: .diffID), "expects"),
            ("size", try builder.build(damage: .layerSize), "bytes"),
            ("missing", try builder.build(damage: .missingLayer), "lacks the blob"),
            ("manifest", try builder.build(damage: .manifestJSON), "manifest"),
            ("text", Array(String(repeating: "not an archive\n", count: 100).utf8), "not a tar archive"),
        ]
        for (name, bytes, message) in cases {
            let path = ImageTests.write(bytes, name: "\(name).tar")
            let result = try runner.burrow("load", "-i", path)
            #expect(result.code == 125, "\(name): \(result)")
            #expect(result.err.contains(message), "\(name): \(result)")
            #expect(result.err.split(separator: "\n").count == 1, "\(name): \(result)")
            #expect(runner.storeListing == before, "\(name) changed the store")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/escape"))
        #expect(try runner.burrow("images", "-q").out == "382fa8fc6723\n")
        let unreadable = try runner.burrow("load", "-i", "/nonexistent/archive.tar")
        #expect(unreadable.code == 125 && unreadable.err.contains("/nonexistent/archive.tar"))
    }
}
}
