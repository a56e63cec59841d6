import BurrowOCI
import Testing

struct ImageReferenceTests {
    @Test(arguments: [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("python:3.9-slim", "docker.io/library/python:3.9-slim", "python:3.9-slim"),
        ("user/app", "docker.io/user/app:latest", "user/app:latest"),
        ("docker.io/library/debian:12", "docker.io/library/debian:12", "debian:12"),
        ("index.docker.io/library/debian", "docker.io/library/debian:latest", "debian:latest"),
        ("localhost/app:1", "localhost/app:1", "localhost/app:1"),
        ("localhost:5000/team/app:v1.2", "localhost:5000/team/app:v1.2", "localhost:5000/team/app:v1.2"),
        ("quay.io/a/b", "quay.io/a/b:latest", "quay.io/a/b:latest"),
        ("my-app__x.y", "docker.io/library/my-app__x.y:latest", "my-app__x.y:latest"),
    ])
    func normalizesAsDocker(text: String, full: String, familiar: String) throws {
        let reference = try ImageReference(parsing: text)
        #expect(reference.description == full)
        #expect(reference.familiar == familiar)
    }

    @Test func keepsADigest() throws {
        let digest = "sha256:" + String(repeating: "a", count: 64)
        let reference = try ImageReference(parsing: "busybox@\(digest)")
        #expect(reference.tag == nil)
        #expect(reference.digest?.description == digest)
        #expect(reference.description == "docker.io/library/busybox@\(digest)")
    }

    @Test(arguments: ["", ":tag", "busy/Box", "a//b", "a:b:c", "-app", "app-", "a@sha256:abc", "a:-tag", "a..b"])
    func refusesMalformedNames(text: String) {
        #expect(throws: ImageReference.ParseError.self) { try ImageReference(parsing: text) }
    }

    @Test func uppercaseRepositoryIsNamedInTheError() {
        #expect(throws: ImageReference.ParseError.uppercase("docker.io/Busybox")) { try ImageReference(parsing: "docker.io/Busybox") }
    }
}

struct DigestTests {
    @Test func parsesSHA256() {
        let text = "sha256:" + String(repeating: "0123456789abcdef", count: 4)
        #expect(Digest(text)?.encoded.count == 64)
        #expect(Digest(text)?.short == "0123456789ab")
    }

    @Test(arguments: ["sha256:abc", "md5:" + String(repeating: "a", count: 32), "sha256:" + String(repeating: "A", count: 64), "nocolon"])
    func refusesOthers(text: String) {
        #expect(Digest(text) == nil)
    }
}
