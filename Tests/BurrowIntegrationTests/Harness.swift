import BurrowTestSupport
import Foundation
import Glibc
import Testing

/// An unprivileged user the container path is tested as: one with a
/// subordinate id range, one without (like an HPC login node).
struct TestUser: Sendable, CustomStringConvertible, Hashable {
    enum Kind: String, Sendable { case subordinate, single }

    let name: String
    let uid: UInt32
    let gid: UInt32
    let home: String
    let kind: Kind

    var description: String { "\(name) (\(kind == .subordinate ? "with a subordinate range" : "without subordinate ids"))" }

    /// BURROW_TEST_USERS="burrow-sub:subordinate,burrow-nosub:single", as
    /// scripts/test.sh sets it; when not root, the caller alone.
    static let all: [TestUser] = {
        if getuid() != 0 {
            guard let me = lookup(String(cString: getpwuid(getuid()).pointee.pw_name), kind: nil) else { return [] }
            return [me]
        }
        let spec = ProcessInfo.processInfo.environment["BURROW_TEST_USERS"] ?? ""
        return spec.split(separator: ",").compactMap { item in
            let parts = item.split(separator: ":")
            return lookup(String(parts[0]), kind: parts.count > 1 ? Kind(rawValue: String(parts[1])) : nil)
        }
    }()

    static func lookup(_ name: String, kind: Kind?) -> TestUser? {
        guard let entry = getpwnam(name) else { return nil }
        let hasRange = ((try? String(contentsOfFile: "/etc/subuid", encoding: .utf8)) ?? "")
            .split(separator: "\n").contains { $0.hasPrefix("\(name):") || $0.hasPrefix("\(entry.pointee.pw_uid):") }
        return TestUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid, home: String(cString: entry.pointee.pw_dir),
                        kind: kind ?? (hasRange ? .subordinate : .single))
    }

    static func first(_ kind: Kind) -> TestUser? { all.first { $0.kind == kind } }
}

struct Outcome: CustomStringConvertible {
    let code: Int32
    let out: String
    let err: String
    var description: String { "exit \(code)\nstdout: \(out)\nstderr: \(err)" }
    var lines: [String] { out.split(separator: "\n").map(String.init) }
}

/// Runs burrow, or any program, as a test user: setpriv switches ids and
/// execs, so the process started is the program itself (signals reach it).
struct Runner: Sendable {
    let user: TestUser
    let store: String

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let binary = ProcessInfo.processInfo.environment["BURROW_BINARY"] ?? packageRoot + "/.build/release/burrow"
    static let images = ProcessInfo.processInfo.environment["BURROW_FIXTURES"] ?? packageRoot + "/../shared/images"

    func environment(_ extra: [String: String]) -> [String] {
        var env = ["HOME": user.home, "USER": user.name, "LOGNAME": user.name, "BURROW_ROOT": store,
                   "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8"]
        for (key, value) in extra { env[key] = value }
        return env.filter { !$0.value.isEmpty }.map { "\($0.key)=\($0.value)" }.sorted()
    }

    func process(_ program: String, _ arguments: [String], env: [String: String] = [:], asRoot: Bool = false) -> Process {
        let process = Process()
        if asRoot {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
        } else if getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups", "--inh-caps=-all", "--",
                                 "/usr/bin/env", "-i"] + environment(env) + [program] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["-i"] + environment(env) + [program] + arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        return process
    }

    @discardableResult
    func run(_ program: String, _ arguments: [String], stdin: [UInt8]? = nil, stdinFile: String? = nil, env: [String: String] = [:],
             asRoot: Bool = false) throws -> Outcome {
        let process = process(program, arguments, env: env, asRoot: asRoot)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        var input: Pipe? = nil
        if let stdinFile {
            process.standardInput = FileHandle(forReadingAtPath: stdinFile)
        } else if stdin != nil {
            input = Pipe()
            process.standardInput = input
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        if let stdin, let input {
            let writer = Thread {
                input.fileHandleForWriting.write(Data(stdin))
                try? input.fileHandleForWriting.close()
            }
            writer.start()
        }
        let errors = ReadAll(err.fileHandleForReading)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(code: process.terminationStatus, out: String(decoding: output, as: UTF8.self),
                       err: errors.wait())
    }

    @discardableResult
    func burrow(_ arguments: String..., stdin: [UInt8]? = nil, stdinFile: String? = nil, env: [String: String] = [:]) throws -> Outcome {
        try run(Runner.binary, arguments, stdin: stdin, stdinFile: stdinFile, env: env)
    }

    @discardableResult
    func burrow(arguments: [String], env: [String: String] = [:]) throws -> Outcome {
        try run(Runner.binary, arguments, env: env)
    }

    func sh(_ script: String, env: [String: String] = [:]) throws -> Outcome {
        try run("/bin/sh", ["-c", script], env: env)
    }

    /// A fresh, empty store for this user.
    static func fresh(_ user: TestUser, tag: String) throws -> Runner {
        let path = "/tmp/burrow-it-\(user.name)-\(tag)-\(UUID().uuidString.prefix(6))"
        let runner = Runner(user: user, store: path)
        let made = try runner.sh("mkdir -p '\(path)'")
        precondition(made.code == 0, "cannot create \(path): \(made)")
        return runner
    }

    /// The store each user's tests share, with the fixture images loaded once.
    static func shared(_ user: TestUser) throws -> Runner {
        try SharedStores.shared.runner(for: user)
    }

    var storeListing: [String] {
        (try? sh("cd '\(store)' && ls layers images containers names tmp 2>/dev/null | sort").out.split(separator: "\n").map(String.init)) ?? []
    }
}

/// Reads a pipe to its end on another thread, so neither pipe fills up.
final class ReadAll: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread {
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }.start()
    }

    func wait() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}

final class SharedStores: @unchecked Sendable {
    static let shared = SharedStores()
    private var runners: [TestUser: Runner] = [:]
    private let lock = NSLock()

    func runner(for user: TestUser) throws -> Runner {
        lock.lock()
        defer { lock.unlock() }
        if let existing = runners[user] { return existing }
        let runner = try Runner.fresh(user, tag: "shared")
        for archive in ["busybox.oci.tar", "python-slim.oci.tar"] {
            let loaded = try runner.burrow("load", "-q", "-i", "\(Runner.images)/\(archive)")
            precondition(loaded.code == 0, "loading \(archive) as \(user.name) failed: \(loaded)")
        }
        runners[user] = runner
        return runner
    }
}

/// Every integration test runs one at a time: they share each user's store
/// and count the user's processes.
@Suite(.serialized) struct Integration {}

/// Both kinds of user must be present when the suite runs as root (CI):
/// otherwise half the container path would silently go untested.
extension Integration {
@Suite struct TestUsersArePresent {
    @Test func bothKindsOfUserAreAvailable() {
        if getuid() == 0 {
            #expect(TestUser.first(.subordinate) != nil, "no test user with a subordinate range: run scripts/test.sh, which creates them")
            #expect(TestUser.first(.single) != nil, "no test user without subordinate ids: run scripts/test.sh, which creates them")
        } else {
            #expect(!TestUser.all.isEmpty, "the current user could not be looked up")
        }
        #expect(FileManager.default.isExecutableFile(atPath: Runner.binary), "\(Runner.binary) is missing: build it with scripts/build.sh")
        #expect(FileManager.default.fileExists(atPath: Runner.images + "/busybox.oci.tar"), "fixture images missing in \(Runner.images)")
    }
}
}
