@testable import BurrowBuild
import BurrowDockerfile
import BurrowSystem
import Foundation
import Glibc
import Testing

/// What COPY sees of a context, and what the step cache keys on: content,
/// modes and names, never times or where the context lies.
@Suite struct BuildContextTests {
    /// A context in a fresh directory: path → text (a trailing `/` makes a directory).
    static func make(_ files: [String: String]) throws -> String {
        let root = NSTemporaryDirectory() + "burrow-context-" + UUID().uuidString
        for (path, text) in files {
            let full = root + "/" + path
            if path.hasSuffix("/") {
                try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
            } else {
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: full, atomically: false, encoding: .utf8)
            }
        }
        return root
    }

    @Test(arguments: [
        ("a.txt", "a.txt"), ("./a.txt", "a.txt"), ("/a.txt", "a.txt"), ("../../a.txt", "a.txt"),
        ("dir/../b", "b"), (".", ""), ("/", ""), ("dir//x/", "dir/x"),
    ])
    func sourcesNeverLeaveTheContext(written: String, cleaned: String) {
        #expect(BuildContext.clean(written) == cleaned)
    }

    @Test func wildcardsAndDockerignoreDecideWhatASourceNames() throws {
        let root = try Self.make(["a.py": "1", "b.py": "2", "c.txt": "3", "sub/d.py": "4", "skip.py": "5",
                                  ".dockerignore": "skip.py\n*.log\n"])
        let context = try BuildContext(directory: root)
        #expect(try context.resolve("*.py") == ["a.py", "b.py"])
        #expect(try context.resolve("**/*.py").contains("sub/d.py"))
        #expect(try context.resolve("skip.py").isEmpty)
        #expect(try context.resolve("missing.txt").isEmpty)
        #expect(try context.resolve(".") == [""])
    }

    @Test func theHashFollowsContentAndModeNotTimesOrPlace() throws {
        let files = ["app.py": "print(1)\n", "dir/x": "x", "notes.log": "ignored"]
        let one = try Self.make(files.merging([".dockerignore": "*.log\n"]) { $1 })
        let two = try Self.make(files.merging([".dockerignore": "*.log\n"]) { $1 })
        let first = try BuildContext(directory: one).hash(["", "app.py"])
        #expect(try BuildContext(directory: two).hash(["", "app.py"]) == first, "the context's own path is not content")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 0)], ofItemAtPath: one + "/app.py")
        try "changed".write(toFile: one + "/notes.log", atomically: false, encoding: .utf8)
        #expect(try BuildContext(directory: one).hash(["", "app.py"]) == first, "times and ignored files are not content")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: one + "/app.py")
        #expect(try BuildContext(directory: one).hash(["", "app.py"]) != first, "a mode is content")
        try "print(2)\n".write(toFile: two + "/app.py", atomically: false, encoding: .utf8)
        #expect(try BuildContext(directory: two).hash(["", "app.py"]) != first)
    }

    /// A symlink named as a source is followed inside the context only, as
    /// BuildKit does: `key -> /home/me/.ssh/id_rsa` must not copy the user's key.
    @Test func symlinksNamedAsSourcesStayInTheContext() throws {
        let root = try Self.make(["sub/f": "inside", "etc/": ""])
        try FileManager.default.createSymbolicLink(atPath: root + "/ok", withDestinationPath: "sub/f")
        try FileManager.default.createSymbolicLink(atPath: root + "/absolute", withDestinationPath: "/sub/f")
        try FileManager.default.createSymbolicLink(atPath: root + "/leak", withDestinationPath: "/etc/hostname")
        try FileManager.default.createSymbolicLink(atPath: root + "/climb", withDestinationPath: "../../../../etc/hostname")
        let context = try BuildContext(directory: root)
        for name in ["ok", "absolute"] {
            let fd = try BuildContext.open(name, in: root)
            #expect(try String(contentsOfFile: "/proc/self/fd/\(fd)", encoding: .utf8) == "inside")
            close(fd)
        }
        #expect(throws: (any Error).self) { try BuildContext.open("leak", in: root) }
        #expect(throws: (any Error).self) { try BuildContext.open("climb", in: root) }
        #expect(throws: (any Error).self) { try context.hash(["leak"]) }
    }

    @Test func addUnpacksArchivesOnly() throws {
        let root = try Self.make(["plain.txt": "hello"])
        let gzip: [UInt8] = [0x1f, 0x8b, 0x08, 0x00] + [UInt8](repeating: 0, count: 16)
        try Data(gzip).write(to: URL(fileURLWithPath: root + "/a.tar.gz"))
        var tar = [UInt8](repeating: 0, count: 512)
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        try Data(tar).write(to: URL(fileURLWithPath: root + "/b.tar"))
        let context = try BuildContext(directory: root)
        #expect(context.isArchive("a.tar.gz"))
        #expect(context.isArchive("b.tar"))
        #expect(!context.isArchive("plain.txt"))
    }

    @Test(arguments: [("30s", Int64(30_000_000_000)), ("1m30s", 90_000_000_000), ("500ms", 500_000_000), ("1h", 3_600_000_000_000),
                      ("1.5s", 1_500_000_000)])
    func healthcheckDurationsAreGoDurations(text: String, nanoseconds: Int64) {
        #expect(Builder.duration(text) == nanoseconds)
    }

    @Test(arguments: ["", "30", "s", "5x", "1m-2s"])
    func badDurationsAreRefused(text: String) {
        #expect(Builder.duration(text) == nil)
    }
}

extension BuildContextTests {
    /// BuildKit reads FILE.dockerignore beside the Dockerfile FILE before the context's own.
    @Test func aDockerfileCanHaveItsOwnIgnoreFile() throws {
        let root = try Self.make(["a.txt": "a", "b.txt": "b", ".dockerignore": "a.txt\n", "build/web.Dockerfile": "FROM scratch\n",
                                  "build/web.Dockerfile.dockerignore": "b.txt\n"])
        #expect(try BuildContext(directory: root).resolve("*.txt") == ["b.txt"])
        #expect(try BuildContext(directory: root, dockerfile: root + "/build/web.Dockerfile").resolve("*.txt") == ["a.txt"])
        #expect(try BuildContext(directory: root, dockerfile: root + "/Dockerfile").resolve("*.txt") == ["b.txt"])
    }
}

extension BuildContextTests {
    static let expose = Instruction(line: 3, command: .expose([]), text: "EXPOSE")
    static func fail(_ instruction: Instruction, _ message: String) -> BurrowError { BurrowError.invalidArgument(message) }

    @Test(arguments: [("80", ["80/tcp"]), ("53/UDP", ["53/udp"]), ("8000-8002", ["8000/tcp", "8001/tcp", "8002/tcp"]),
                      ("9/sctp", ["9/sctp"])])
    func exposedPortsAreRecordedAsDockerDoes(word: String, keys: [String]) throws {
        #expect(try Builder.exposedPorts(word, Self.expose, Self.fail) == keys)
    }

    @Test(arguments: ["http", "0", "80/icmp", "90-80", "70000", ""])
    func notAPortIsRefused(word: String) {
        #expect(throws: (any Error).self) { try Builder.exposedPorts(word, Self.expose, Self.fail) }
    }
}
