import BurrowOCI
import Testing

/// BC-11: a variant is only compared when both sides have one; ARM takes the
/// highest variant not newer than the host's; the order of entries does not matter.
struct PlatformTests {
    static let digits = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

    static func entry(_ arch: String, _ variant: String?, _ n: Int) -> Descriptor {
        Descriptor(mediaType: MediaType.ociManifest, digest: Digest("sha256:" + String(digits.dropLast(1)) + String(n))!, size: 1,
                   platform: Platform(os: "linux", architecture: arch, variant: variant))
    }

    static let entries = [entry("amd64", nil, 1), entry("arm64", nil, 2), entry("arm", "v7", 3), entry("arm", "v6", 4)]

    @Test(arguments: [
        ("x86_64", nil as String?, 1),
        ("aarch64", "v8", 2),
        ("armv7l", nil, 3),
        ("armv6l", nil, 4),
    ])
    func picksTheRightEntryInAnyOrder(machine: String, variant: String?, expected: Int) {
        let host = Platform(os: "linux", architecture: machine, variant: variant)
        for order in [PlatformTests.entries, PlatformTests.entries.reversed(), [PlatformTests.entries[2], PlatformTests.entries[0], PlatformTests.entries[3], PlatformTests.entries[1]]] {
            #expect(host.select(from: order)?.digest.encoded.last == Character(String(expected)))
        }
    }

    @Test func neverPicksANewerARMVariant() {
        let host = Platform(os: "linux", architecture: "arm", variant: "v6")
        #expect(host.select(from: [PlatformTests.entry("arm", "v7", 3)]) == nil)
    }

    @Test func normalizesSpellings() {
        #expect(Platform(os: "linux", architecture: "arm64v8").architecture == "arm64")
        #expect(Platform(os: "linux", architecture: "aarch64", variant: "8").variant == nil)
        #expect(Platform(parsing: "linux/arm/7")?.description == "linux/arm/v7")
        #expect(Platform(parsing: "linux") == nil)
    }
}
