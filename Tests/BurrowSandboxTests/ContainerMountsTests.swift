@testable import BurrowSandbox
import BurrowStore
import BurrowSystem
import Foundation
import Glibc
import Testing

/// The host side of mounts, in a scratch store: no image layers are given,
/// so nothing here needs a user namespace (copy-up is tested with the
/// storage tests and the integration tests).
struct ContainerMountsTests {
    let scratch = NSTemporaryDirectory() + "burrow-mounts-\(UUID().uuidString.prefix(8))"

    func specs(_ volumes: [String] = [], mounts: [String] = [], tmpfs: [String] = []) throws -> [MountSpec] {
        try MountSpecParser.parse(volumes: volumes, mounts: mounts, tmpfs: tmpfs, workingDirectory: scratch)
    }

    @Test func bindSourcesAreCheckedOrMade() throws {
        try FileSystem.makeDirectories(scratch + "/host")
        defer { try? FileSystem.removeTree(scratch) }
        let store = try Store(root: scratch + "/store")
        try FileSystem.writeFile(scratch + "/host/file", Array("x".utf8))
        let resolved = try ContainerMounts.resolve(specs: try specs(["./host:/data", "./host/file:/etc/app.conf:ro", "./made/by/v:/new"]),
                                                   store: store, identity: Identity.current(), imageLayers: [])
        #expect(resolved.map(\.hostPath) == [scratch + "/host", scratch + "/host/file", scratch + "/made/by/v"])
        #expect(resolved.map(\.isFile) == [false, true, false])
        #expect(FileSystem.isDirectory(scratch + "/made/by/v"), "-v makes a missing host directory, as Docker")
        #expect(resolved[1].configuration == ContainerMount(type: "bind", source: scratch + "/host/file", target: "/etc/app.conf", readOnly: true, volume: nil, isFile: true))

        #expect {
            try ContainerMounts.resolve(specs: try specs(mounts: ["type=bind,src=./absent,dst=/x"]), store: store, identity: Identity.current(), imageLayers: [])
        } throws: { "\($0)" == "invalid mount config for type \"bind\": bind source path does not exist: \(scratch)/absent" }
        #expect(!FileSystem.exists(scratch + "/absent"), "--mount never makes a host directory")
    }

    @Test func volumesAreMadeOnFirstUseAndUndoneOnFailure() throws {
        defer { try? FileSystem.removeTree(scratch) }
        let store = try Store(root: scratch + "/store")
        _ = try store.createVolume(name: "old")
        let resolved = try ContainerMounts.resolve(specs: try specs(["new:/new", "old:/old:ro", "/anon"], mounts: ["src=labelled,dst=/l,volume-label=k=v"], tmpfs: ["/tmp"]),
                                                   store: store, identity: Identity.current(), imageLayers: [], imageVolumes: ["/anon", "/var/lib/db/", "/old"])
        #expect(resolved.map(\.spec.target) == ["/new", "/old", "/anon", "/l", "/tmp", "/var/lib/db"], "an image VOLUME no mount covers gets an anonymous volume")
        #expect(resolved.map(\.createdVolume) == [true, false, true, true, false, true])
        #expect(resolved[0].hostPath == store.layout.volumeData("new") && resolved[1].volumeName == "old")
        #expect(resolved[4].hostPath == nil && resolved[4].volumeName == nil)
        let anonymous = try #require(resolved[2].volumeName)
        #expect(try store.volume(anonymous)?.isAnonymous == true && store.volume("labelled")?.labels == ["k": "v"])
        #expect(resolved[2].configuration == ContainerMount(type: "volume", source: store.layout.volumeData(anonymous), target: "/anon", readOnly: false, volume: anonymous))

        ContainerMounts.discard(resolved, store: store, identity: Identity.current())
        #expect(try store.volumes().map(\.name) == ["old"], "what resolve made goes, what was there stays")
    }

    @Test func previewCreatesNothing() throws {
        try FileSystem.makeDirectories(scratch)
        defer { try? FileSystem.removeTree(scratch) }
        let store = try Store(root: scratch + "/store")
        let previewed = ContainerMounts.preview(specs: try specs(["./absent:/a", "vol:/v", "/anon"]), store: store)
        #expect(previewed.map(\.hostPath?.isEmpty) == [false, false, false])
        #expect(previewed[1].hostPath == store.layout.volumeData("vol"))
        #expect(try store.volumes().isEmpty && !FileSystem.exists(scratch + "/absent"))
    }
}
