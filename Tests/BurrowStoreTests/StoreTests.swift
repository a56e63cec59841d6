import BurrowOCI
import BurrowStore
import BurrowSystem
import BurrowTestSupport
import Foundation
import Testing

struct StoreTests {
    let root = Fixtures.temporaryDirectory("burrow-store")

    func digest(_ n: Int) -> Digest { Digest("sha256:" + String(repeating: String(n % 10), count: 64))! }

    func addLayer(_ store: Store, _ diffID: Digest) throws {
        let staging = try store.makeStaging("layer")
        try FileSystem.makeDirectory(staging.path + "/root")
        try JSONFiles.write(LayerRecord(diffID: diffID, size: 10, entries: 1, whiteouts: "overlay", created: Timestamp.now()),
                            to: staging.path + "/layer.json")
        #expect(try store.commitLayer(from: staging.path, diffID: diffID))
        staging.discard()
    }

    func addImage(_ store: Store, config: String, layers: [Digest], tag: String?) throws -> Digest {
        let bytes = Array(config.utf8)
        let id = Digest(SHA256Hasher.digest(bytes))!
        try store.writeImage(ImageRecord(id: id, layers: layers, manifestDigest: nil, size: 10, added: Timestamp.now()), config: bytes, manifest: nil)
        if let tag {
            var tags = try store.tags()
            tags[try ImageReference(parsing: tag).description] = id
            try store.writeTags(tags)
        }
        return id
    }

    @Test func resolvesByNameIdAndPrefix() throws {
        defer { try? FileSystem.removeTree(root) }
        let store = try Store(root: root)
        try addLayer(store, digest(1))
        let id = try addImage(store, config: "{\"a\":1}", layers: [digest(1)], tag: "busybox")
        #expect(try store.resolveImage("busybox") == id)
        #expect(try store.resolveImage("docker.io/library/busybox:latest") == id)
        #expect(try store.resolveImage(id.description) == id)
        #expect(try store.resolveImage(String(id.encoded.prefix(12))) == id)
        #expect { try store.resolveImage("nothere") } throws: { ($0 as? BurrowError)?.code == .notFound && "\($0)".contains("nothere") }
        #expect { try store.resolveImage("Bad//Name") } throws: { ($0 as? BurrowError)?.code == .invalidArgument }
    }

    @Test func layersInUseStayAndUnusedOnesGo() throws {
        defer { try? FileSystem.removeTree(root) }
        let store = try Store(root: root)
        try addLayer(store, digest(1))
        try addLayer(store, digest(2))
        // The same layer committed twice keeps the first.
        let again = try store.makeStaging("layer")
        #expect(try !store.commitLayer(from: again.path, diffID: digest(1)))
        again.discard()
        let a = try addImage(store, config: "{\"a\":1}", layers: [digest(1), digest(2)], tag: "a")
        _ = try addImage(store, config: "{\"b\":1}", layers: [digest(1)], tag: "b")
        try store.deleteImage(a)
        let unused = try store.unusedLayers(among: [digest(1), digest(2)])
        #expect(unused == [digest(2)])
        for layer in unused { try store.deleteLayer(layer) }
        #expect(store.layerExists(digest(1)))
        #expect(!store.layerExists(digest(2)))
        #expect((try FileSystem.entries(of: store.layout.staging)).isEmpty)
    }

    /// An ingest killed halfway leaves a staging directory: nothing of it is
    /// visible, and the next sweep removes it unless its owner still lives.
    @Test func interruptedWorkIsInvisibleAndSwept() throws {
        defer { try? FileSystem.removeTree(root) }
        let store = try Store(root: root)
        let crashed = store.layout.staging + "/layer-dead"
        try FileSystem.makeDirectories(crashed + "/root/usr/bin")
        FileManager.default.createFile(atPath: store.layout.staging + "/layer-dead.lock", contents: nil)
        let live = try store.makeStaging("layer")
        #expect(try store.images().isEmpty)
        #expect(!store.layerExists(digest(3)))
        store.sweepStaging()
        #expect(!FileSystem.exists(crashed))
        #expect(FileSystem.exists(live.path))
        live.discard()
    }

    @Test func namesAreUniqueUntilReleased() throws {
        defer { try? FileSystem.removeTree(root) }
        let store = try Store(root: root)
        let first = String(repeating: "a", count: 64)
        let second = String(repeating: "b", count: 64)
        try FileSystem.makeDirectory(store.layout.container(first))
        try store.writeContainer(ContainerRecord(id: first, name: "web", imageID: digest(1), imageName: "x", layers: [],
                                                 command: ["true"], created: Timestamp.now(), driver: "overlay", autoRemove: false))
        try store.reserveName("web", for: first)
        #expect { try store.reserveName("web", for: second) } throws: { ($0 as? BurrowError)?.code == .conflict && "\($0)".contains("web") }
        #expect(try store.resolveContainer("web") == first)
        #expect(try store.resolveContainer("aaaa") == first)
        store.releaseName("web", of: first)
        try store.reserveName("web", for: second)
    }

    @Test func timestampsRoundTrip() {
        #expect(Timestamp.format(seconds: 1_704_067_200) == "2024-01-01T00:00:00Z")
        #expect(Timestamp.parse("2024-01-01T00:00:00Z") == 1_704_067_200)
        #expect(Timestamp.parse("2024-01-01T02:00:00.123+02:00") == 1_704_067_200)
        #expect(Timestamp.ago(100, now: 100 + 7200) == "2 hours ago")
    }
}
