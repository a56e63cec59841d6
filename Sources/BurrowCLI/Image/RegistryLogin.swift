import BurrowOCI
import BurrowSystem
import BurrowTransport
import Glibc

enum RegistryLogin: Command {
    static let spec = CommandSpec("login", arguments: "[SERVER]", summary: "Keep credentials for a registry", options: [
        OptionSpec("username", short: "u", value: "USER", help: "Username"),
        OptionSpec("password", short: "p", value: "PASSWORD", help: "Password (visible to other users of this machine: prefer --password-stdin)"),
        OptionSpec("password-stdin", help: "Read the password from standard input"),
    ], maximumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let server = try RegistryLogin.server(arguments.positionals.first)
        var username = arguments.value("username")
        var password = arguments.value("password")
        if arguments.flag("password-stdin") {
            if password != nil { throw BurrowError.invalidArgument("--password and --password-stdin are exclusive: give one") }
            guard username != nil else { throw BurrowError.invalidArgument("--password-stdin needs --username") }
            password = try readStandardInput()
        }
        if username == nil {
            guard isatty(0) == 1 else { throw BurrowError.invalidArgument("no username given and standard input is not a terminal: use -u USER --password-stdin") }
            username = prompt("Username: ", echo: true)
        }
        if password == nil {
            guard isatty(0) == 1 else { throw BurrowError.invalidArgument("no password given and standard input is not a terminal: use --password-stdin") }
            password = prompt("Password: ", echo: false)
        }
        guard let username, !username.isEmpty else { throw BurrowError.invalidArgument("the username is empty: give one with -u USER") }
        guard let password, !password.isEmpty else { throw BurrowError.invalidArgument("the password is empty: give one with --password-stdin") }
        let settings = try RegistrySettings.load(home: context.identity.user.home)
        let credential = CredentialStore.Credential(username: username, password: password)
        try RegistryClient.verify(domain: server, credential: credential, settings: settings)
        _ = try settings.credentials.store(credential, for: server)
        context.out("Login Succeeded")
        return 0
    }

    /// "https://index.docker.io/v1/", "index.docker.io" and nothing all mean Docker Hub.
    static func server(_ text: String?) throws -> String {
        guard var name = text, !name.isEmpty else { return ImageReference.defaultDomain }
        for scheme in ["https://", "http://"] where name.hasPrefix(scheme) { name = String(name.dropFirst(scheme.count)) }
        if let slash = name.firstIndex(of: "/") { name = String(name[..<slash]) }
        if name == "index.docker.io" || name == "registry-1.docker.io" { name = ImageReference.defaultDomain }
        guard (try? ImageReference(parsing: "\(name)/probe")).map({ $0.domain == name }) == true else {
            throw BurrowError.invalidArgument("\(text!) is not a registry: give host[:port], e.g. localhost:5000 or quay.io")
        }
        return name
    }

    static func readStandardInput() throws -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = try buffer.withUnsafeMutableBytes { raw in try syscall("read") { read(0, raw.baseAddress, raw.count) } }
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    static func prompt(_ text: String, echo: Bool) -> String {
        Context.standardError(text)
        var saved = termios()
        let restore = !echo && tcgetattr(0, &saved) == 0
        if restore {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSAFLUSH, &quiet)
        }
        defer {
            if restore {
                tcsetattr(0, TCSAFLUSH, &saved)
                Context.standardError("\n")
            }
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(0, &byte, 1) == 1 && byte != 10 { line.append(byte) }
        return String(decoding: line, as: UTF8.self).trimmingCharacters(in: "\r")
    }
}

enum RegistryLogout: Command {
    static let spec = CommandSpec("logout", arguments: "[SERVER]", summary: "Forget the credentials kept for a registry", maximumPositionals: 1)

    static func run(_ arguments: ParsedArguments, _ context: Context) throws -> Int32 {
        let server = try RegistryLogin.server(arguments.positionals.first)
        let settings = try RegistrySettings.load(home: context.identity.user.home)
        if try settings.credentials.store(nil, for: server) {
            context.out("Removed login credentials for \(server)")
        } else {
            context.out("Not logged in to \(server)")
        }
        return 0
    }
}

private extension String {
    func trimmingCharacters(in character: Character) -> String {
        var text = self
        while text.last == character { text.removeLast() }
        return text
    }
}
