import BurrowOCI
import BurrowStore
import BurrowSystem
import BurrowTransport
import Glibc

enum ImageSave: Command {
    static let spec = CommandSpec("save", arguments: "IMAGE...", summary: "Write images to a docker-archive or oci-archive", options: [
        OptionSpec("output", short: "o", value: "FILE", help: "Write to FILE instead of standard output"),
        OptionSpec("format", value: "FORMAT", help: "docker-archive (the default) or oci-archive"),
    ], minimumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let formatText = arguments.value("format") ?? "docker-archive"
        guard let format = ArchiveSaver.Format(rawValue: formatText) else {
            throw BurrowError.invalidArgument("invalid format \(formatText): give docker-archive or oci-archive")
        }
        let output = arguments.value("output")
        if output == nil && isatty(1) == 1 {
            throw BurrowError.invalidArgument("refusing to write an archive to a terminal: use -o FILE or redirect standard output")
        }
        let store = try context.store()
        let tags = try store.tags()
        var images: [ArchiveSaver.Image] = []
        for text in arguments.positionals {
            let id = try store.resolveImage(text, tags: tags)
            // A name saves that name; an id saves every name the image has, as Docker does.
            var references = store.references(of: id, in: tags)
            if let reference = try? ImageReference(parsing: text), tags[reference.description] == id { references = [reference] }
            if let index = images.firstIndex(where: { $0.id == id }) {
                let merged = images[index].references + references.filter { !images[index].references.contains($0) }
                images[index] = ArchiveSaver.Image(id: id, references: merged, name: images[index].name)
            } else {
                images.append(ArchiveSaver.Image(id: id, references: references, name: text))
            }
        }
        let saver = ArchiveSaver(store: store)
        guard let output else {
            try saver.save(images, format: format, to: 1)
            return 0
        }
        let temporary = "\(output).burrow-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw BurrowError.permissionDenied("cannot write \(output): \(String(cString: strerror(errno))); choose a file in a folder you can write")
        }
        do {
            try saver.save(images, format: format, to: fd)
            try syscall("fsync", output) { fsync(fd) }
            close(fd)
            try FileSystem.rename(temporary, to: output)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        return 0
    }
}
