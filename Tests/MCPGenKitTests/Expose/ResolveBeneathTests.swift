#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// Resolving a declared command beneath its release: `openat2(RESOLVE_BENEATH)` on the stored
/// tree, and the walk over the manifest used where the kernel has no openat2, agree on every case.
@Suite("Commands resolved beneath the release")
struct ResolveBeneathTests {
  static let cases: [(path: String, expected: CommandResolution)] = [
    ("bin/file", .executable),
    ("bin/data", .notExecutable),
    ("bin/inside", .executable),            // -> ../libexec/tool
    ("bin/chain", .executable),             // -> inside -> ../libexec/tool
    ("bin/via-dir", .executable),           // -> ../lib/tool, lib -> libexec
    ("bin/absolute", .outside),             // -> /usr/bin/true
    ("bin/up", .outside),                   // -> ../../outside/tool
    ("bin/up-and-back", .outside),          // -> ../../tree/libexec/tool: leaves, even if it comes back
    ("bin/dot-dot-inside", .executable),    // -> ../bin/../libexec/tool
    ("bin/dangling", .notExecutable),       // -> ../nowhere
    ("bin/loop", .notExecutable),           // -> loop
    ("bin/to-dir", .notExecutable),         // -> ../libexec
    ("bin/through-file", .notExecutable),   // -> file/x
    ("escape/tool", .outside),              // escape -> /usr/bin
    ("bin/dot", .notExecutable),            // -> .
  ]

  @Test("openat2 and the manifest walk give the same answer", arguments: cases)
  func agree(path: String, expected: CommandResolution) throws {
    let dir = try TestDirectory()
    defer { dir.remove() }
    try dir.makeDirectory("outside")
    try dir.writeFile("outside/tool", "#!/bin/sh\n", mode: 0o755)
    try dir.makeDirectory("tree")
    try dir.makeDirectory("tree/bin")
    try dir.makeDirectory("tree/libexec")
    try dir.writeFile("tree/libexec/tool", "#!/bin/sh\n", mode: 0o755)
    try dir.writeFile("tree/bin/file", "#!/bin/sh\n", mode: 0o755)
    try dir.writeFile("tree/bin/data", "data\n", mode: 0o644)
    try dir.symlink("tree/lib", to: "libexec")
    try dir.symlink("tree/escape", to: "/usr/bin")
    for (name, target) in [
      ("inside", "../libexec/tool"), ("chain", "inside"), ("via-dir", "../lib/tool"), ("absolute", "/usr/bin/true"),
      ("up", "../../outside/tool"), ("up-and-back", "../../tree/libexec/tool"), ("dot-dot-inside", "../bin/../libexec/tool"),
      ("dangling", "../nowhere"), ("loop", "loop"), ("to-dir", "../libexec"), ("through-file", "file/x"), ("dot", "."),
    ] {
      try dir.symlink("tree/bin/" + name, to: target)
    }
    let scanned = try TreeScanner.scan(dir.at("tree"))
    let byPath = Dictionary(scanned.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    let release = try DirectoryFD.open(dir.at("tree"))

    let kernel: CommandResolution
    switch release.statWithin(Array(path.utf8)) {
    case .success(let st): kernel = st.type == .regular && st.permissions.rawValue & 0o111 != 0 ? .executable : .notExecutable
    case .failure(let e) where e == .improperLink: kernel = .outside
    case .failure: kernel = .notExecutable
    }
    #expect(kernel == expected, "openat2 on \(path)")
    #expect(Store.resolveInManifest(Array(path.utf8), byPath) == expected, "manifest walk on \(path)")
  }
}
