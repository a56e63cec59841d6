import CBurrowSys
import Glibc

/// Facts about the running kernel and machine.
public enum HostSystem {
    public static var kernelRelease: String {
        var names = utsname()
        uname(&names)
        return withUnsafePointer(to: names.release) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
    }

    public static var hostname: String {
        var names = utsname()
        uname(&names)
        return withUnsafePointer(to: names.nodename) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
    }

    /// The first line of a /proc or /sys file, nil when it cannot be read.
    public static func readSetting(_ path: String) -> String? {
        guard let text = try? FileSystem.readText(path) else { return nil }
        return text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init)
    }

    /// The path of the running executable.
    public static var executablePath: String {
        (try? FileSystem.readLink("/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    public static func filesystemType(of path: String) -> UInt {
        var type: UInt = 0
        guard bsys_statfs_type(path, &type) == 0 else { return 0 }
        return type
    }

    public static func filesystemName(magic: UInt) -> String {
        switch magic {
        case 0xEF53: return "ext4"
        case 0x58465342: return "xfs"
        case 0x9123683E: return "btrfs"
        case 0x01021994: return "tmpfs"
        case 0x794C7630: return "overlayfs"
        case 0x6969: return "nfs"
        case 0x65735546: return "fuse"
        case 0x2FC12FC1: return "zfs"
        case 0xFF534D42: return "cifs"
        case 0x5346544E: return "ntfs"
        case 0xF15F: return "ecryptfs"
        case 0x47504653: return "gpfs"
        case 0x0BD00BD0: return "lustre"
        default: return "0x" + String(magic, radix: 16)
        }
    }
}
