import BurrowLaunch
import BurrowSystem
import Glibc

/// The host's certificate authorities, lent to a container (`--host-ca`):
/// on a machine whose traffic goes through a TLS-intercepting proxy, the
/// host trusts the proxy's CA and an image does not, so `pip install` in a
/// build fails with "certificate verify failed" unless the host's bundle
/// is visible inside, at the paths the common TLS libraries read
/// (Debian/Ubuntu, Red Hat/Fedora, Alpine's cert.pem) and named by
/// SSL_CERT_FILE. A container gets it bound read-only over those paths; a
/// build step gets it as a read-only layer above the image's (Builder's
/// hostCALayer), so update-ca-certificates can still replace the file.
/// Either way it never reaches an image's layers.
public enum HostCA {
    /// Where the bundle appears in the container.
    public static let targets = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]
    /// Where the host's own bundle is looked for, in order.
    public static let hostBundles = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]
    /// Turns the default on or off: 1/0, true/false, yes/no.
    public static let variable = "BURROW_HOST_CA"

    /// The host's bundle, or nil when it has none of the usual files.
    public static func hostBundle() -> String? {
        hostBundles.first { path in
            var st = stat()
            return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(path, R_OK) == 0
        }
    }

    /// Whether the bundle is lent, from a flag's value ("" when given bare),
    /// else BURROW_HOST_CA, else `host-ca` in the user's burrow.conf, else
    /// `fallback` (on for build, off for run).
    public static func enabled(flag: String?, fallback: Bool) throws -> Bool {
        if let flag { return try parse(flag, what: "--host-ca") }
        if let value = BurrowSystem.environment(variable), !value.isEmpty { return try parse(value, what: variable) }
        if let setting = try UserConfig.load().setting("host-ca") { return try parse(setting.value, what: "\(setting.place): host-ca") }
        return fallback
    }

    static func parse(_ text: String, what: String) throws -> Bool {
        switch text.lowercased() {
        case "", "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw BurrowError.invalidArgument("\(what)=\(text) is not a yes or no: use true or false")
        }
    }

    /// The bundle to lend: `file` (--host-ca-file) or the host's own; nil
    /// when off. An explicit file must be readable; a host without a bundle
    /// is an error only when the user asked for it by flag.
    public static func bundle(enabled: Bool, file: String?, asked: Bool, warn: (String) -> Void) throws -> String? {
        if let file {
            let path = FileSystem.absolute(file)
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(path, R_OK) == 0 else {
                throw BurrowError.notFound("--host-ca-file \(file) is not a readable file: give a PEM bundle of CA certificates")
            }
            return path
        }
        guard enabled else { return nil }
        if let found = hostBundle() { return found }
        let message = "no CA bundle found on the host (looked at \(hostBundles.joined(separator: ", "))): give one with --host-ca-file FILE"
        if asked { throw BurrowError.notFound(message) }
        warn(message)
        return nil
    }

    /// SSL_CERT_FILE for programs that read it (Python's ssl, OpenSSL, Go),
    /// unless the image sets its own.
    public static func withCertificateFile(_ environment: [String], path: String = targets[0]) -> [String] {
        environment.contains { $0.hasPrefix("SSL_CERT_FILE=") } ? environment : environment + ["SSL_CERT_FILE=\(path)"]
    }

    /// The launch plan's binds, read-only. A missing target is created (an
    /// empty file, and its directories) in the container's own upper layer.
    public static func steps(bundle: String) -> [LaunchPlan.Step] {
        targets.map { target in
            LaunchPlan.Step(.mount(source: bundle, target: target, type: nil, data: nil, flags: [.bind], inRoot: true,
                                   create: .file, optional: true, readOnly: true, recursive: false),
                            label: "bind the host's CA bundle on \(target)")
        }
    }
}
