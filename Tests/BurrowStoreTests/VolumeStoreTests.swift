import BurrowOCI
import BurrowStore
import BurrowSystem
import BurrowTestSupport
import Foundation
import Testing

struct VolumeStoreTests {
    let root = Fixtures.temporaryDirectory("burrow-volumes")

    func container(_ id: Character, name: String, mounts: [ContainerMount]) -> ContainerRecord {
        var record = ContainerRecord(id: String(repeating: String(id), count: 64), name: name, imageID: Digest("sha256:" + String(repeating: "1", count: 64))!,
                                     imageName: "x", layers: [], command: ["true"], created: Timestamp.now(), driver: "overlay", autoRemove: false)
        record.mounts = mounts
        return record
    }

    @Test func createdWholeAndOnce() throws {
        defer { try? FileSystem.removeTree(root) }
        let store = try Store(root: root)
        let (made, created) = try store.createVolume(name: "data", labels: ["a": "1"])
        #expect(created)
        #expect(made.name == "data" && made.driver == "local" && made.labels == ["a": "1"] && !made.isAnonymous)
        #expect(made.mountpoint == root + "/volumes/data/_data")
        #expect(FileSystem.isDirectory(made.mountpoint))
        #expect(store.volumeIsEmpty("data") == true)
        // As Docker: creating it again returns the volume there is.
        let (again, createdAgain) = try store.createVolume(name: "data", labels: ["b": "2"])
        #expect(!createdAgain && again == made)
        #expect(try FileSystem.entries(of: store.layout.staging).isEmpty)

        let (unnamed, _) = try store.createVolume(name: nil)
        #expect(unnamed.name.count == 64 && !unnamed.isAnonymous, "as docker volume create: random name, no anonymous label")
        let (anonymous, _) = try store.createVolume(name: nil, labels: [VolumeRecord.anonymousLabel: ""])
        #expect(anonymous.isAnonymous)
        #expect(try store.volumes().map(\.name) == [anonymous.name, unnamed.name, "data"].sorted())
        #expect { try store.createVolume(name: "a b") } throws: { "\($0)".contains("includes invalid characters") }
        #expect(try store.volume("../volumes/data") == nil, "a name is never a path")
    }

    @Test func recordsRoundTripAndOldOnesRead() throws {
        let record = VolumeRecord(name: "v1", created: "2024-01-01T00:00:00Z", labels: ["k": "v"], mountpoint: "/s/volumes/v1/_data")
        #expect(try VolumeRecord(json: try JSONValue(parsing: Array(record.json.serialized.utf8))) == record)

        let mount = ContainerMount(type: "volume", source: "/s/volumes/v1/_data", target: "/data", readOnly: true, volume: "v1")
        let withMounts = container("a", name: "web", mounts: [mount, .init(type: "tmpfs", source: nil, target: "/tmp", readOnly: false, volume: nil)])
        let read = try ContainerRecord(json: try JSONValue(parsing: Array(withMounts.json.serialized.utf8)))
        #expect(read.mounts == withMounts.mounts)

        // A record from before containers had mounts.
        var members = withMounts.json.members ?? []
        members.removeAll { $0.0 == "mounts" }
        #expect(try ContainerRecord(json: .object(members)).mounts.isEmpty)
    }

    @Test func usersAndRetirement() throws {
        defer { try? FileSystem.removeTree(root) }
        let store = try Store(root: root)
        _ = try store.createVolume(name: "data")
        let user = container("b", name: "db", mounts: [.init(type: "volume", source: store.layout.volumeData("data"), target: "/data", readOnly: false, volume: "data")])
        try FileSystem.makeDirectory(store.layout.container(user.id))
        try store.writeContainer(user)
        #expect(try store.containersUsing(volume: "data").map(\.name) == ["db"])
        #expect(try store.containersUsing(volume: "other").isEmpty)

        try FileSystem.writeFile(store.layout.volumeData("data") + "/f", Array("12345".utf8))
        try FileSystem.makeDirectory(store.layout.volumeData("data") + "/d")
        try FileSystem.writeFile(store.layout.volumeData("data") + "/d/g", Array("678".utf8))
        #expect(Store.treeSize(store.layout.volumeData("data")) == 8)
        #expect(store.volumeIsEmpty("data") == false)

        let retired = try store.retireVolume("data")
        #expect(try store.volume("data") == nil)
        #expect(FileSystem.exists(retired + "/_data/f"))
        // The next sweep of tmp/ removes what a command left there.
        store.sweepStaging()
        #expect(!FileSystem.exists(retired))
    }
}
