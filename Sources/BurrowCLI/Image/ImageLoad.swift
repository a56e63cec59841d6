import BurrowArchive
import BurrowSystem
import BurrowTransport
import Glibc

enum ImageLoad: Command {
    static let spec = CommandSpec("load", summary: "Load images from a docker-archive or oci-archive file or from stdin", options: [
        OptionSpec("input", short: "i", value: "FILE", help: "Read from FILE instead of standard input"),
        OptionSpec("quiet", short: "q", help: "Do not show progress"),
    ], maximumPositionals: 0)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let input = arguments.value("input")
        if input == nil && isatty(0) == 1 {
            throw BurrowError.invalidArgument("no archive given and standard input is a terminal: use 'burrow load -i FILE' or 'burrow load < FILE'")
        }
        if let input, !FileSystem.exists(input) {
            throw BurrowError.notFound("\(input) does not exist: give the path of a docker-archive or oci-archive")
        }
        if let input, FileSystem.isDirectory(input) {
            throw BurrowError.invalidArgument("\(input) is a directory: give a docker-archive or oci-archive file (tar)")
        }
        if let input, access(input, R_OK) != 0 {
            throw BurrowError.permissionDenied("cannot read \(input): \(String(cString: strerror(errno))); give an archive you can read")
        }
        if let code = try context.reenterUserNamespace() { return code }
        let store = try context.store()
        store.sweepStaging()
        let fd: Int32
        if let input {
            fd = try syscall("open", input) { open(input, O_RDONLY | O_CLOEXEC) }
        } else {
            fd = 0
        }
        defer { if fd != 0 { close(fd) } }
        let probe = StorageProbeAccess.whiteouts(store)
        let loader = ArchiveLoader(store: store, ownership: .currentNamespace(), whiteouts: probe,
                                   progress: TerminalProgress.make(quiet: arguments.flag("quiet")))
        let results = try loader.load(fd: fd, displayName: input ?? "standard input")
        for result in results {
            for message in result.messages { context.out(message) }
        }
        return 0
    }
}
