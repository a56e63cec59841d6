import BurrowSystem
import Glibc

/// A scratch directory under the store's tmp/, locked while its process
/// lives. Work is assembled here and renamed into place whole; whatever a
/// crash leaves behind is swept by the next command that writes the store.
public final class StagingDirectory {
    public let path: String
    private let lock: FileLock

    init(parent: String, purpose: String) throws {
        let name = "\(purpose)-\(Hex.random(bytes: 8))"
        path = "\(parent)/\(name)"
        lock = try FileLock(path: "\(path).lock", mode: .exclusive)
        try FileSystem.makeDirectory(path, mode: 0o700)
    }

    /// Removes the directory and its lock. Files of other owners need the
    /// caller to be inside the user namespace.
    public func discard() {
        try? FileSystem.removeTree(path)
        unlink("\(path).lock")
    }

    /// Removes what interrupted commands left: every staging directory whose
    /// lock no live process holds, and retired containers (no lock at all)
    /// whose purge did not finish.
    static func sweep(_ parent: String) {
        guard let names = try? FileSystem.entriesIfPresent(of: parent) else { return }
        for name in names where !name.hasSuffix(".lock") && !names.contains(name + ".lock") {
            try? FileSystem.removeTree("\(parent)/\(name)")
        }
        for name in names where name.hasSuffix(".lock") {
            let lockPath = "\(parent)/\(name)"
            guard let held = try? FileLock.tryExclusive(path: lockPath) else { continue }
            try? FileSystem.removeTree(String(lockPath.dropLast(5)))
            unlink(lockPath)
            _ = held
        }
    }
}
