// swift-tools-version:6.1
import PackageDescription

let package = Package(
  name: "mcp-gen",
  products: [
    .executable(name: "mcp-gen", targets: ["mcp-gen"]),
    .library(name: "MCPGenKit", targets: ["MCPGenKit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    // Health checks and the restart hook; without the Foundation trait (start-up time).
    .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2", traits: []),
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
    // The engine: store, hashing, generations, locking, journal. No command-line knowledge.
    .target(
      name: "MCPGenKit",
      dependencies: [
        "CLibCrypto",
        "CMCPGenShims",
        .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "Subprocess", package: "swift-subprocess"),
      ]
    ),
    // The face: parses arguments, calls MCPGenKit, prints.
    .executableTarget(
      name: "mcp-gen",
      dependencies: [
        "MCPGenKit",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    .testTarget(
      name: "MCPGenKitTests",
      dependencies: ["MCPGenKit", .product(name: "SystemPackage", package: "swift-system")]
    ),
    .testTarget(
      name: "EndToEndTests",
      dependencies: ["MCPGenKit", .product(name: "SystemPackage", package: "swift-system")]
    ),
  ]
)
