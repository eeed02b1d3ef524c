// swift-tools-version:6.1
import PackageDescription

// The targets are the architecture (ARCHITECTURE.md): each may import only what its
// `dependencies:` list names, and Tests/MCPGenKitTests/Architecture/ImportWallTests.swift fails
// when a source file imports a module its target's row in ARCHITECTURE.md does not allow.
//
//   mcp-gen (CLI) ──┬──> MCPGenKit (engine) ──> MCPGenSystem (libc, libcrypto) ──> MCPGenTerminal
//   mcp-gen-tuf-  ──┴──> MCPGenRemote (TUF, curl) ──> MCPGenKit, MCPGenSystem
//     client            (the CLI sees of the OS only MCPGenTerminal)
let package = Package(
  name: "mcp-gen",
  products: [
    .executable(name: "mcp-gen", targets: ["mcp-gen"]),
    .executable(name: "mcp-gen-tuf-client", targets: ["mcp-gen-tuf-client"]),
    .library(name: "MCPGenKit", targets: ["MCPGenKit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
  ],
  targets: [
    // OpenSSL's libcrypto, EVP interface only: the one SHA-256 implementation of the project.
    .systemLibrary(
      name: "CLibCrypto",
      pkgConfig: "libcrypto",
      providers: [.apt(["libssl-dev"])]
    ),
    // Linux calls that Swift cannot import directly (ioctl request macros, raw syscalls).
    // Also SHA-256 over mapped bytes with a SIGBUS guard, which must run in C (siglongjmp).
    .target(name: "CMCPGenShims", dependencies: ["CLibCrypto"]),
    // The SIGINT/SIGTERM handler (async-signal-safe, so C) behind MCPGenTerminal's CancelSignals.
    .target(name: "CMCPGenSignals"),
    // The bottom: what the CLI may ask of the OS (is this a terminal, how wide, an environment
    // variable, write and exit, the monotonic clock, Ctrl-C as a cancel request) and byte names
    // made safe to print.
    .target(
      name: "MCPGenTerminal",
      dependencies: ["CMCPGenSignals", .product(name: "SystemPackage", package: "swift-system")]
    ),
    // Every system call: Syscall (Result<_, Errno>, EINTR retried), DirectoryFD, fault
    // injection, clocks, threads, the one child-process runner (git, tar, curl, health checks),
    // SHA-256/512 and signatures over libcrypto, TemporaryFile, and Swift types for what the
    // engine passes and reads back (OpenFlags, FileInfo, ...). Knows
    // nothing about stores. It re-exports MCPGenTerminal (byte paths and their display).
    .target(
      name: "MCPGenSystem",
      dependencies: [
        "MCPGenTerminal",
        "CLibCrypto",
        "CMCPGenShims",
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    // The engine: store, hashing, journal, generations, health, gc, audit, diff, expose, doctor.
    // No command-line knowledge. Reaches the OS only through MCPGenSystem (no file imports Glibc).
    .target(
      name: "MCPGenKit",
      dependencies: [
        "MCPGenSystem",
        "MCPGenTerminal",
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    // Remote releases (TUF): metadata, signatures, the client workflow, publishing, pulling,
    // and the only HTTP transport (the curl program). Beside the engine, never below it.
    .target(
      name: "MCPGenRemote",
      dependencies: [
        "MCPGenKit",
        "MCPGenSystem",
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    // The TUF conformance suite's client under test. Linked dynamically on purpose (not by
    // scripts/build-static.sh): libfaketime must be able to move its clock.
    .executableTarget(
      name: "mcp-gen-tuf-client",
      dependencies: ["MCPGenRemote", "MCPGenTerminal"]
    ),
    // The face: parses arguments, calls MCPGenKit, prints. Of the OS it sees only MCPGenTerminal.
    .executableTarget(
      name: "mcp-gen",
      dependencies: [
        "MCPGenKit",
        "MCPGenRemote",
        "MCPGenTerminal",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    // What every test target shares: the one process runner, the one scratch directory, the
    // coreutils oracle, where the built binaries and fixtures are. Imports none of our targets,
    // so the oracle stays independent of the engine it checks.
    .target(
      name: "MCPGenTestSupport",
      dependencies: [.product(name: "SystemPackage", package: "swift-system")],
      path: "Tests/MCPGenTestSupport"
    ),
    // Tests may import any target (white-box tests of the engine use @testable).
    .testTarget(
      name: "MCPGenKitTests",
      dependencies: [
        "MCPGenKit", "MCPGenSystem", "MCPGenTerminal", "MCPGenTestSupport",
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    .testTarget(
      name: "RemoteTests",
      dependencies: [
        "MCPGenRemote", "MCPGenKit", "MCPGenSystem", "MCPGenTerminal", "MCPGenTestSupport",
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    .testTarget(
      name: "EndToEndTests",
      dependencies: [
        "MCPGenKit", "MCPGenSystem", "MCPGenTerminal", "MCPGenTestSupport",
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
  ]
)
