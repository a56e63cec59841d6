import BurrowLaunch
@testable import BurrowSandbox
import Testing

/// --host-ca's settings and what it adds to a container. Pure: no file of
/// the host's trust store is read.
@Suite struct HostCATests {
    @Test(arguments: [
        (nil as String?, false, false), (nil, true, true), ("", false, true), ("true", false, true), ("1", false, true),
        ("yes", false, true), ("false", true, false), ("0", true, false), ("off", true, false),
    ])
    func aFlagDecidesOverTheDefault(flag: String?, fallback: Bool, expected: Bool) throws {
        #expect(try HostCA.enabled(flag: flag, fallback: fallback) == expected)
    }

    @Test func aValueThatIsNotYesOrNoIsRefusedByName() {
        #expect(throws: (any Error).self) { try HostCA.enabled(flag: "maybe", fallback: true) }
    }

    @Test func sslCertFileIsAddedUnlessTheImageSetsIt() {
        #expect(HostCA.withCertificateFile(["PATH=/bin"]) == ["PATH=/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"])
        #expect(HostCA.withCertificateFile(["SSL_CERT_FILE=/mine"]) == ["SSL_CERT_FILE=/mine"])
        #expect(HostCA.withCertificateFile([], path: "/etc/pki/tls/certs/ca-bundle.crt") == ["SSL_CERT_FILE=/etc/pki/tls/certs/ca-bundle.crt"])
    }

    /// Read-only binds at the Debian, Red Hat and Alpine paths, made when missing, skipped when the source is.
    @Test func theBindsCoverTheThreeBundlePaths() {
        let steps = HostCA.steps(bundle: "/tmp/bundle.pem")
        #expect(steps.count == 3)
        for (step, target) in zip(steps, ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]) {
            guard case .mount(let source, let to, _, _, _, let inRoot, let create, let optional, let readOnly, _) = step.operation else {
                Issue.record("not a mount: \(step)")
                continue
            }
            #expect(source == "/tmp/bundle.pem" && to == target && inRoot && create == .file && optional && readOnly)
        }
    }
}
