import BurrowOCI
import BurrowSystem
import BurrowTransport
import Glibc

enum ImageImport: Command {
    static let spec = CommandSpec("import", arguments: "FILE|- [REPOSITORY[:TAG]]",
                                  summary: "Make a one-layer image from a root filesystem tarball", options: [
        OptionSpec("message", short: "m", value: "TEXT", help: "Set the history comment of the image"),
        OptionSpec("quiet", short: "q", help: "Do not show progress"),
    ], minimumPositionals: 1, maximumPositionals: 2)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let path = arguments.positionals[0]
        var reference: ImageReference? = nil
        if arguments.positionals.count > 1 {
            do {
                reference = try ImageReference(parsing: arguments.positionals[1])
            } catch {
                throw BurrowError.invalidArgument("\(error)")
            }
            if reference?.digest != nil { throw BurrowError.invalidArgument("import takes a name and tag, not a digest") }
        }
        if path != "-" && !FileSystem.exists(path) {
            throw BurrowError.notFound("\(path) does not exist: give a root filesystem tarball (.tar, .tar.gz, .tar.zst), or - for standard input")
        }
        if path != "-" && FileSystem.isDirectory(path) {
            throw BurrowError.invalidArgument("\(path) is a directory: give a root filesystem tarball, e.g. made with tar -C \(path) -cf rootfs.tar .")
        }
        if path == "-" && isatty(0) == 1 {
            throw BurrowError.invalidArgument("standard input is a terminal: pipe a tarball in, or give its path")
        }
        if let code = try context.reenterUserNamespace() { return code }
        let store = try context.store()
        store.sweepStaging()
        let fd = path == "-" ? 0 : try syscall("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { if fd != 0 { close(fd) } }
        var st = stat()
        let seekable = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        let importer = RootfsImporter(store: store, ownership: .currentNamespace(), whiteouts: StorageProbeAccess.whiteouts(store),
                                      progress: TerminalProgress.make(quiet: arguments.flag("quiet")))
        let result = try importer.importRootfs(fd: fd, seekable: seekable, displayName: path == "-" ? "standard input" : path,
                                               reference: reference, message: arguments.value("message"))
        for message in result.messages { context.out(message) }
        return 0
    }
}
