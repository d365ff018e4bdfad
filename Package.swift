// swift-tools-version:6.0
import PackageDescription

// The Swift runtime linked into each executable, so that installed binaries need only
// Debian's libraries (libc, libstdc++, libfuse3, liburing, libnl), never the toolchain
// (Tests/Integration/t05_no_toolchain_libs.sh). C libraries stay dynamic. No target imports
// Foundation (static, it brings ICU's data: some 60 MB a binary). FoundationEssentials
// (swift-argument-parser and swift-crypto import it, so every binary has it: about 10 MB
// each; qtinfo's --json uses it too) needs its archive and two helper archives named here,
// after the objects that use them. swift-crypto (the ciphers of sealed frames) costs about
// 2-10 MB a binary, stripped; it seals 2.7 times faster than Debian's OpenSSL 3.0 here.
// Release builds only (those are installed): the unit tests link Qtinfo's module, they would
// inherit these flags, and XCTest exists only as a shared library.
// Installed binaries also resolve every symbol at start and then make their relocations
// read-only (`-z now` with the default RELRO: Debian's bindnow hardening).
let bindNow: LinkerSetting = .unsafeFlags(["-Xlinker", "-z", "-Xlinker", "now"], .when(configuration: .release))
let foundationEssentialsArchives = ["-lFoundationEssentials", "-l_FoundationCollections", "-l_FoundationCShims"]
let staticSwiftRuntime: [LinkerSetting] = [
    .unsafeFlags(["-static-stdlib"] + foundationEssentialsArchives, .when(configuration: .release)),
    bindNow,
]
// C shims of release builds use glibc's checked string and memory functions (Debian's
// fortify hardening; it needs the optimiser, which release builds run).
let fortify: [CSetting] = [.define("_FORTIFY_SOURCE", to: "2", .when(configuration: .release))]

// Layout: a platform-free protocol library, C shim targets holding only what Swift
// cannot import, server and client libraries, and thin executables on top.
let package = Package(
    name: "qtfs-swift",
    products: [
        .executable(name: "qtfs-server", targets: ["QtfsServer"]),
        .executable(name: "qtfs-fuse", targets: ["QtfsClientFuse"]),
        .executable(name: "qtinfo", targets: ["Qtinfo"]),
        .executable(name: "qtfs-rexec", targets: ["QtfsRexecCommand"]),
        .executable(name: "qtfs-run", targets: ["QtfsRunCommand"]),
        .library(name: "QtfsProtocol", targets: ["QtfsProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // Wire protocol v1: framing, messages, codec. No io_uring, FUSE or Foundation.
        .target(name: "QtfsProtocol"),
        // The system layer every other target uses: the syscall funnel and its errno type,
        // lock, condition, threads, monotonic clock, server addresses, TCP dialing.
        .target(name: "QtfsSystem", dependencies: ["QtfsProtocol"]),
        // Authentication handshake: key files, HMAC-SHA256 proofs; sealed frames' keys and
        // ciphers (docs/protocol.md, "Sealed frames").
        // The ciphers are BoringSSL's, under swift-crypto's Crypto product (Aead.swift says why).
        .target(name: "QtfsAuth", dependencies: ["QtfsProtocol", "CQtfsSys", .product(name: "Crypto", package: "swift-crypto")]),
        // Thin C shims.
        .target(name: "CQtfsUring", cSettings: fortify, linkerSettings: [.linkedLibrary("uring")]),
        .target(name: "CFuse", cSettings: fortify, linkerSettings: [.linkedLibrary("fuse3"), .linkedLibrary("uring")]),
        .target(name: "CQtfsSys", cSettings: fortify),
        // Control endpoint (qtinfo): statistics, log level, status over a unix socket.
        .target(name: "QtfsControl", dependencies: ["QtfsSystem", .product(name: "Logging", package: "swift-log")]),
        // Prometheus text export of the statistics, through swift-metrics.
        .target(
            name: "QtfsMetrics",
            dependencies: [
                "QtfsControl", "QtfsSystem",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // Remote exec's channel, shared by the host (qtfs-server) and the DPU (qtfs-rexec):
        // frames (sealed on a sealed connection) over a non-blocking socket and the
        // credit-controlled stream pumps.
        .target(name: "QtfsRexec", dependencies: ["QtfsProtocol", "QtfsSystem", "QtfsAuth"]),
        // Byte relay for bridged unix sockets (server and client), sealed on a sealed connection.
        .target(name: "QtfsRelay", dependencies: ["QtfsProtocol", "QtfsAuth", "QtfsSystem"]),
        // Client of qtfs.ko's generic netlink family (libnl stays inside the .c file).
        .target(
            name: "CNetlink",
            cSettings: fortify + [.unsafeFlags(["-I/usr/include/libnl3"])],
            linkerSettings: [.linkedLibrary("nl-genl-3"), .linkedLibrary("nl-3")]),
        .target(
            name: "QtfsServerCore",
            dependencies: [
                "QtfsProtocol", "QtfsSystem", "QtfsRexec", "QtfsAuth", "CQtfsUring", "CQtfsSys", "QtfsControl", "QtfsRelay",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "QtfsServer",
            dependencies: [
                "QtfsServerCore", "QtfsSystem", "QtfsControl", "QtfsMetrics", "QtfsAuth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: staticSwiftRuntime),
        .target(
            name: "QtfsClient",
            dependencies: [
                "QtfsProtocol", "QtfsSystem", "QtfsAuth", "CQtfsSys", "QtfsRelay",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The FUSE operations: each finds its mount through the request (fuse_req_userdata)
        // and answers through a FuseReply; unit-tested without a kernel mount.
        .target(
            name: "QtfsFuseOps",
            dependencies: [
                "QtfsClient", "QtfsProtocol", "QtfsSystem", "CFuse", "CQtfsSys", "QtfsControl",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // qtfs-fuse itself: options, logging, mount, the session loop.
        .executableTarget(
            name: "QtfsClientFuse",
            dependencies: [
                "QtfsFuseOps", "QtfsClient", "QtfsAuth", "CFuse", "CQtfsSys", "QtfsControl",
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: staticSwiftRuntime),
        // qtfs-rexec (and `rexec`): run a host program from the DPU (docs/rexec.md).
        .executableTarget(
            name: "QtfsRexecCommand",
            dependencies: ["QtfsClient", "QtfsProtocol", "QtfsRexec", "QtfsAuth", "CQtfsSys"],
            // It starts once per remote program (twice per container): the Swift runtime
            // linked in starts in about 1 ms less than loading it (docs/performance.md).
            linkerSettings: [.unsafeFlags(["-static-executable"] + foundationEssentialsArchives), bindNow]),
        // qtfs-run: a command's mounts and unix sockets under qtfs mounts done on the host.
        .executableTarget(
            name: "QtfsRunCommand",
            dependencies: ["QtfsClient", "QtfsProtocol", "QtfsSystem", "QtfsAuth", "CQtfsSys"],
            linkerSettings: staticSwiftRuntime),
        .executableTarget(
            name: "Qtinfo",
            dependencies: [
                "QtfsProtocol", "QtfsSystem", "QtfsControl", "CNetlink", "QtfsClient", "QtfsAuth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: staticSwiftRuntime),
        .testTarget(name: "QtfsProtocolTests", dependencies: ["QtfsProtocol"]),
        .testTarget(
            name: "QtfsServerTests",
            dependencies: [
                "QtfsServerCore", "QtfsProtocol", "QtfsSystem", "CQtfsSys", "QtfsTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Shared by the test targets: a fake server (scripted, over TCP) and a raw frame peer.
        .target(name: "QtfsTestSupport", dependencies: ["QtfsProtocol", "QtfsSystem"], path: "Tests/QtfsTestSupport"),
        .testTarget(name: "QtfsClientTests", dependencies: ["QtfsClient", "QtfsProtocol", "QtfsTestSupport"]),
        .testTarget(
            name: "QtfsFuseOpsTests",
            dependencies: [
                "QtfsFuseOps", "QtfsClient", "QtfsProtocol", "QtfsSystem", "QtfsTestSupport", "CFuse",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "QtfsRelayTests", dependencies: ["QtfsRelay", "QtfsAuth", "QtfsProtocol", "QtfsTestSupport"]),
        .testTarget(
            name: "QtfsMetricsTests",
            dependencies: ["QtfsMetrics", "QtfsControl", "QtfsTestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "QtfsControlTests", dependencies: ["QtfsControl", "Qtinfo"]),
        .testTarget(name: "QtfsAuthTests", dependencies: ["QtfsAuth", "QtfsProtocol"]),
        .testTarget(name: "QtfsRexecTests", dependencies: ["QtfsRexec", "QtfsProtocol", "QtfsAuth"]),
    ],
    swiftLanguageModes: [.v5]
)
