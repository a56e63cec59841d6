import BurrowOCI
import BurrowStore
import BurrowTransport
import Foundation
import Testing

/// The pure parts of a pull: which index entry, which credential, which host.
struct RegistryChoiceTests {
    static func entry(_ platform: String?, _ n: Int, type: String = MediaType.ociManifest) -> Descriptor {
        Descriptor(mediaType: type, digest: Digest("sha256:" + String(repeating: "a", count: 63) + String(n))!, size: 1,
                   platform: platform.flatMap(Platform.init(parsing:)))
    }

    @Test func theErrorListsEveryPlatformOnce() {
        let index = ImageIndex(manifests: [RegistryChoiceTests.entry("linux/amd64", 1), RegistryChoiceTests.entry("linux/arm/v7", 2),
                                           RegistryChoiceTests.entry("linux/amd64", 3), RegistryChoiceTests.entry("unknown/unknown", 4)])
        #expect(throws: (any Error).self) { try ImagePuller.choose(Platform(parsing: "linux/s390x")!, from: index, name: "app") }
        do {
            _ = try ImagePuller.choose(Platform(parsing: "linux/s390x")!, from: index, name: "app")
        } catch {
            #expect("\(error)" == "app has no image for linux/s390x: it has linux/amd64, linux/arm/v7; choose one with --platform")
        }
    }

    @Test func attestationsAreNeverChosen() throws {
        // buildx puts provenance under unknown/unknown; it is not an image.
        let index = ImageIndex(manifests: [RegistryChoiceTests.entry("unknown/unknown", 1), RegistryChoiceTests.entry("linux/amd64", 2)])
        #expect(try ImagePuller.choose(Platform(parsing: "linux/amd64")!, from: index, name: "app").digest.encoded.last == "2")
    }

    @Test func aMissingVariantMatches() throws {
        let index = ImageIndex(manifests: [RegistryChoiceTests.entry("linux/arm64", 1)])
        #expect(try ImagePuller.choose(Platform(parsing: "linux/arm64/v8")!, from: index, name: "app").digest.encoded.last == "1")
        #expect(try ImagePuller.choose(Platform(parsing: "linux/aarch64")!, from: index, name: "app").digest.encoded.last == "1")
    }

    @Test func loopbackMayUsePlainHTTP() {
        let settings = RegistrySettings(insecure: ["registry.lan:5000"], trust: .init(directories: []),
                                        credentials: CredentialStore(path: "/nonexistent", others: []))
        for domain in ["localhost:5000", "127.0.0.1:5000", "127.0.0.2", "[::1]:5000", "localhost", "registry.lan:5000"] {
            #expect(settings.allowsPlainHTTP(domain), "\(domain)")
        }
        for domain in ["docker.io", "quay.io", "registry.lan:5001", "127example.com:5000".replacingOccurrences(of: "127", with: "x127")] {
            #expect(!settings.allowsPlainHTTP(domain), "\(domain)")
        }
        #expect(RegistrySettings.apiHost("docker.io") == "registry-1.docker.io")
    }

    @Test func credentialsAreReadFromEachShapeAndWrittenPrivately() throws {
        let directory = NSTemporaryDirectory() + "burrow-auth-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Docker files Docker Hub under its v1 URL and keeps other keys.
        try #"{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOnB3"}},"credsStore":"none"}"#
            .write(toFile: "\(directory)/config.json", atomically: true, encoding: .utf8)
        let store = CredentialStore(path: "\(directory)/burrow/auth.json", others: ["\(directory)/missing.json", "\(directory)/config.json"])
        #expect(store.credential(for: "docker.io") == .init(username: "hub", password: "pw"))
        #expect(store.credential(for: "quay.io") == nil)

        #expect(try store.store(.init(username: "me", password: "p:a:ss"), for: "localhost:5000"))
        #expect(store.credential(for: "localhost:5000") == .init(username: "me", password: "p:a:ss"))
        let mode = try FileManager.default.attributesOfItem(atPath: store.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let text = try String(contentsOfFile: store.path, encoding: .utf8)
        #expect(text.contains("\"localhost:5000\"") && text.contains("\"auth\": \"bWU6cDphOnNz\""), "\(text)")
        #expect(try store.store(nil, for: "localhost:5000"))
        #expect(store.credential(for: "localhost:5000") == nil)
        #expect(try !store.store(nil, for: "localhost:5000"))
    }
}

/// References as pull and push read them: the registry, the repository path
/// the API uses, and what is asked for.
struct RegistryReferenceTests {
    @Test(arguments: [
        ("python:3.9-slim", "docker.io", "library/python", "3.9-slim"),
        ("localhost:5000/app", "localhost:5000", "app", "latest"),
        ("127.0.0.1:5000/team/app:v1", "127.0.0.1:5000", "team/app", "v1"),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1"),
        ("quay.io/org/tool", "quay.io", "org/tool", "latest"),
        ("registry.lan/a/b/c:2", "registry.lan", "a/b/c", "2"),
    ])
    func registryAndRepository(text: String, domain: String, path: String, tag: String) throws {
        let reference = try ImageReference(parsing: text)
        #expect(reference.domain == domain && reference.path == path && reference.tag == tag)
    }

    @Test func aDigestReferenceAsksForTheDigest() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let reference = try ImageReference(parsing: "127.0.0.1:5000/app@\(digest)")
        #expect(reference.tag == nil && reference.digest?.description == digest)
        #expect(reference.description == "127.0.0.1:5000/app@\(digest)")
    }

    @Test func mediaTypesOfKeptBlobs() {
        #expect(LayerBlob.mediaType(magic: [0x1f, 0x8b, 8, 0]) == MediaType.ociLayerGzip)
        #expect(LayerBlob.mediaType(magic: [0x28, 0xb5, 0x2f, 0xfd]) == MediaType.ociLayerZstd)
        #expect(LayerBlob.mediaType(magic: Array("usr/".utf8)) == MediaType.ociLayer)
        #expect(LayerBlob.mediaType(magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]) == nil)
    }
}
