import BurrowArchive
import BurrowTestSupport
import Foundation
import Glibc
import Testing

struct TarIndexTests {
    func index(_ bytes: [UInt8]) throws -> TarIndex {
        let directory = Fixtures.temporaryDirectory("burrow-index")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/archive.tar"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        return try TarIndex(reading: fd, displayName: "archive.tar")
    }

    @Test func findsMembersLongNamesAndLinks() throws {
        var tar = TarBuilder()
        let long = "blobs/sha256/" + String(repeating: "a", count: 120)
        tar.add("manifest.json", .file("[]"))
        tar.add(long, .file("layer-bytes"))
        tar.add("abc/layer.tar", .symlink("../" + long))
        let index = try index(tar.finished())
        #expect(index.members["manifest.json"]?.size == 2)
        let member = try #require(index.regularMember("abc/layer.tar"))
        #expect(member.name == long)
        #expect(member.size == 11)
    }

    @Test func badChecksumAndTruncationAreNamed() throws {
        var tar = TarBuilder()
        tar.add("manifest.json", .file(String(repeating: "x", count: 3000)))
        var broken = tar.finished()
        broken[10] ^= 0x55
        #expect { try index(broken) } throws: { "\($0)".contains("not a tar archive") }
        #expect { try index(Array(tar.finished().prefix(1024))) } throws: { "\($0)".contains("truncated") }
        #expect { try index([]) } throws: { "\($0)".contains("empty") }
    }
}
