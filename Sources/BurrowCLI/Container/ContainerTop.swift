import BurrowSandbox
import BurrowSystem
import Glibc

/// `burrow top`: the container's processes, read from /proc (burrow runs no
/// ps of the host's), in the columns of `ps -ef` that Docker shows.
enum ContainerTop: Command {
    static let spec = CommandSpec("top", arguments: "CONTAINER [-ef]", summary: "List a container's processes",
                                  optionsEndAtFirstPositional: true, minimumPositionals: 1, maximumPositionals: 2)

    struct Process {
        let pid: Int32
        let uid: UInt32
        let stat: ProcessStat
        let command: String
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        if arguments.positionals.count == 2, !["-ef", "-e", "-f", "ef", "aux"].contains(arguments.positionals[1]) {
            throw BurrowError.invalidArgument("burrow top reads /proc itself and takes no ps options but -ef: drop \"\(arguments.positionals[1])\"")
        }
        let store = try context.store()
        let id = try store.resolveContainer(arguments.positionals[0])
        guard let record = try store.currentContainer(id), record.isRunning, let first = record.process else {
            throw BurrowError.conflict("container \(arguments.positionals[0]) is not running")
        }
        // Owners as the host sees them, read before entering the namespace that renames them.
        let all = (try FileSystem.entries(of: "/proc")).compactMap(Int32.init).compactMap(read)
        try ContainerAccess(store: store).enterUserNamespace(of: record)
        guard let namespace = namespaceInode(first.pid) else { throw BurrowError.conflict("container \(arguments.positionals[0]) is not running") }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let boot = bootTime()
        var table = Table(["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"])
        for process in all.sorted(by: { $0.pid < $1.pid }) where namespaceInode(process.pid) == namespace {
            let started = boot + Int64(Double(process.stat.startTime) / ticks)
            let seconds = Int(Double(process.stat.cpuTicks) / ticks)
            table.add([userName(process.uid), String(process.pid), String(process.stat.parent), "0", clock(started),
                       terminal(process.stat.terminal), String(format: seconds), process.command])
        }
        context.out(table.render())
        return 0
    }

    static func read(_ pid: Int32) -> Process? {
        guard let stat = ProcessStat.read(pid), let status = try? FileSystem.readText("/proc/\(pid)/status") else { return nil }
        let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(whereSeparator: { $0 == "\t" || $0 == " " })
            .dropFirst().first.flatMap { UInt32($0) } ?? 0
        var command = ((try? FileSystem.readFile("/proc/\(pid)/cmdline")) ?? []).map { $0 == 0 ? 32 : $0 }
        while command.last == 32 { command.removeLast() }
        if command.isEmpty, let comm = try? FileSystem.readText("/proc/\(pid)/comm") {
            command = Array("[\(comm.split(separator: "\n").first ?? "")]".utf8)
        }
        return Process(pid: pid, uid: uid, stat: stat, command: String(decoding: command, as: UTF8.self))
    }

    static func namespaceInode(_ pid: Int32) -> UInt64? {
        var st = stat()
        guard stat("/proc/\(pid)/ns/pid", &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }

    static func bootTime() -> Int64 {
        let text = (try? FileSystem.readText("/proc/stat")) ?? ""
        return text.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Int64($0.dropFirst(6)) } ?? 0
    }

    static func userName(_ uid: UInt32) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return String(uid) }
        return String(cString: name)
    }

    static func clock(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        localtime_r(&t, &parts)
        return two(Int(parts.tm_hour)) + ":" + two(Int(parts.tm_min))
    }

    static func terminal(_ device: Int32) -> String {
        guard device != 0 else { return "?" }
        let major = (device >> 8) & 0xfff, minor = (device & 0xff) | ((device >> 12) & 0xfff00)
        return major == 136 ? "pts/\(minor)" : "?"
    }
}

private func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

private extension String {
    /// HH:MM:SS of a number of seconds, as ps prints TIME.
    init(format seconds: Int) {
        self = "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))"
    }
}
