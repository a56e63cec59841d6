// swift-tools-version:6.0
import PackageDescription

// The release `burrow` is linked fully static: start-up time is the product, and
// a static executable skips the dynamic loader entirely. burrow-net links
// Debian's libslirp, which comes as a shared library only.
let package = Package(
    name: "burrow",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "burrow", targets: ["burrow"]),
        .executable(name: "burrow-init", targets: ["burrow-init"]),
        .executable(name: "burrow-net", targets: ["burrow-net"]),
    ],
    targets: [
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSSL", pkgConfig: "libssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "CBurrowSys"),
        .target(name: "CBurrowLaunch"),
        .target(name: "CBurrowMonitor"),

        .target(name: "BurrowOCI"),
        .target(name: "BurrowDockerfile"),
        .target(name: "BurrowSystem", dependencies: ["CBurrowSys", "CCrypto"]),
        .target(name: "BurrowArchive", dependencies: ["BurrowSystem", "CArchive"],
                linkerSettings: [.linkedLibrary("zstd"), .linkedLibrary("z"), .linkedLibrary("lzma"), .linkedLibrary("bz2")]),
        .target(name: "BurrowStore", dependencies: ["BurrowOCI", "BurrowSystem"]),
        .target(name: "BurrowLaunch", dependencies: ["BurrowSystem", "CBurrowLaunch"]),
        .target(name: "BurrowStorage", dependencies: ["BurrowStore", "BurrowLaunch", "BurrowArchive", "BurrowSystem", "BurrowOCI"]),
        .target(name: "BurrowHTTP", dependencies: ["CSSL"]),
        .target(name: "BurrowTransport", dependencies: ["BurrowOCI", "BurrowArchive", "BurrowStore", "BurrowSystem", "BurrowHTTP", "CArchive"]),
        .target(name: "BurrowSandbox", dependencies: ["BurrowOCI", "BurrowStore", "BurrowStorage", "BurrowLaunch", "BurrowArchive", "BurrowSystem", "CBurrowLaunch", "CBurrowMonitor"]),
        .target(name: "BurrowBuild", dependencies: ["BurrowDockerfile", "BurrowOCI", "BurrowStore", "BurrowStorage", "BurrowTransport", "BurrowSandbox", "BurrowArchive", "BurrowSystem", "CBurrowSys"]),
        .target(name: "BurrowCLI", dependencies: ["BurrowBuild", "BurrowHTTP", "BurrowDockerfile", "BurrowOCI", "BurrowStore", "BurrowStorage", "BurrowTransport", "BurrowSandbox", "BurrowLaunch", "BurrowArchive", "BurrowSystem"]),
        .executableTarget(name: "burrow", dependencies: ["BurrowCLI"],
                          linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]),
        // C only. scripts/build.sh links the release one again with the C compiler alone,
        // without the Swift runtime SwiftPM links into every executable.
        .executableTarget(name: "burrow-net", linkerSettings: [.linkedLibrary("slirp"), .unsafeFlags(["-Xlinker", "--as-needed"])]),
        // Runs inside containers, whose roots hold none of our libraries: static always.
        .executableTarget(name: "burrow-init", linkerSettings: [.unsafeFlags(["-static-executable"])]),

        .target(name: "BurrowTestSupport", path: "Tests/BurrowTestSupport"),
        .testTarget(name: "BurrowOCITests", dependencies: ["BurrowOCI"]),
        .testTarget(name: "BurrowHTTPTests", dependencies: ["BurrowHTTP"]),
        .testTarget(name: "BurrowTransportTests", dependencies: ["BurrowTransport", "BurrowOCI", "BurrowSystem", "BurrowStore"]),
        .testTarget(name: "BurrowDockerfileTests", dependencies: ["BurrowDockerfile"]),
        .testTarget(name: "BurrowBuildTests", dependencies: ["BurrowBuild", "BurrowDockerfile", "BurrowSystem"]),
        .testTarget(name: "BurrowArchiveTests", dependencies: ["BurrowArchive", "BurrowSystem", "BurrowTestSupport", "CBurrowSys"]),
        .testTarget(name: "BurrowStorageTests", dependencies: ["BurrowStorage", "BurrowArchive", "BurrowSystem", "BurrowTestSupport", "CBurrowSys"]),
        .testTarget(name: "BurrowStoreTests", dependencies: ["BurrowStore", "BurrowSystem", "BurrowOCI", "BurrowTestSupport"]),
        .testTarget(name: "BurrowLaunchTests", dependencies: ["BurrowLaunch"]),
        .testTarget(name: "BurrowSandboxTests", dependencies: ["BurrowSandbox", "BurrowLaunch", "BurrowOCI"]),
        .testTarget(name: "BurrowCLITests", dependencies: ["BurrowCLI"]),
        .testTarget(name: "BurrowIntegrationTests", dependencies: ["BurrowTestSupport"]),
    ]
)
