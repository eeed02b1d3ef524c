import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// `make install` and `make uninstall` for real, into scratch prefixes.
///
/// Built in debug, in a scratch path of its own (`.build-install-test`, kept between runs so only
/// the first run builds everything): the release build the Makefile makes by default takes
/// minutes on two cores, and the flags that choose it are the only difference. One compile job,
/// so the other suites running meanwhile keep a core.
@Suite("make install, make uninstall", .serialized)
struct InstallTests {
  static let make = Rel.tool(["/usr/bin/make", "/bin/make"])

  static let installed = [
    "bin/mcp-gen",
    "share/bash-completion/completions/mcp-gen",
    "share/zsh/site-functions/_mcp-gen",
    "share/fish/vendor_completions.d/mcp-gen.fish",
    "share/man/man1/mcp-gen.1",
  ]

  /// `make TARGET VARIABLES...` in the package root; fails with its output unless it exits 0.
  @discardableResult
  static func run(_ target: String, _ variables: [String]) throws -> CLI.Output {
    let arguments = ["-C", CLI.packageRoot, target, "BUILD_CONFIG=debug", "BUILD_DIR=\(CLI.packageRoot)/.build-install-test",
                     "SWIFT_BUILD_FLAGS=-j 1"] + variables
    let out = try CLI.runProcess(make!, arguments, environment: ProcessInfo.processInfo.environment)
    guard out.status == 0 else {
      throw E2EFailure("make \(arguments.joined(separator: " ")) exited \(out.status)\nstdout: \(out.stdoutText.suffix(3000))\nstderr: \(out.stderrText.suffix(3000))")
    }
    return out
  }

  /// Every regular file (or symlink) below `dir`, relative to it.
  static func files(_ dir: String) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: dir) else { return [] }
    var out: [String] = []
    while let name = walker.nextObject() as? String {
      var st = stat()
      if lstat(dir + "/" + name, &st) == 0, st.st_mode & S_IFMT != S_IFDIR { out.append(name) }
    }
    return out.sorted()
  }

  @Test("install PREFIX=scratch: the binary runs (--version, hash), completions and man page are in place; uninstall removes exactly them",
        .enabled(if: make != nil, "needs make (scripts/deps.sh installs it)"))
  func installAndUninstall() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let prefix = scratch.at("prefix")
    let install = try Self.run("install", ["PREFIX=\(prefix)"])
    if let line = install.stdoutText.split(separator: "\n").first(where: { $0.hasPrefix("mcp-gen linked as: ") }) { print("install: \(line)") }
    #expect(Self.files(prefix) == Self.installed.sorted(), "\(Self.files(prefix))")

    let binary = prefix + "/bin/mcp-gen"
    let version = try CLI.runProcess(binary, ["--version"], environment: nil)
    let expected = try CLI.run(["--version"]).stdoutText
    #expect(version.status == 0 && version.stdoutText == expected, "\(version.stdoutText)")
    let hash = try CLI.runProcess(binary, ["hash", CLI.fixture("mcp-1.0")], environment: nil)
    #expect(hash.status == 0)
    let key = try Gen.key(CLI.fixture("mcp-1.0"))
    #expect(hash.stdoutText == key + "\n")
    var st = stat()
    #expect(stat(binary, &st) == 0 && st.st_mode & 0o777 == 0o755)
    for name in Self.installed.dropFirst() {
      #expect(stat(prefix + "/" + name, &st) == 0 && st.st_size > 0 && st.st_mode & 0o777 == 0o644, "\(name)")
    }
    for shell in ["bash", "zsh", "fish"] {
      let expected = try CLI.runProcess(binary, ["--generate-completion-script", shell], environment: nil).stdoutText
      let name = Self.installed.first { $0.contains(shell) || ($0.hasSuffix("_mcp-gen") && shell == "zsh") }!
      #expect(Gen.read(prefix + "/" + name) == expected, "\(name) is not the \(shell) completion of the installed binary")
    }
    #expect(Gen.read(prefix + "/share/man/man1/mcp-gen.1") == Gen.read(CLI.packageRoot + "/docs/mcp-gen.1"))

    try Self.run("uninstall", ["PREFIX=\(prefix)"])
    #expect(Self.files(prefix).isEmpty, "left behind: \(Self.files(prefix))")
  }

  @Test("DESTDIR stages under DESTDIR/PREFIX and writes nothing at PREFIX itself; uninstall honours it too",
        .enabled(if: make != nil, "needs make (scripts/deps.sh installs it)"))
  func destdir() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let stage = scratch.at("stage")
    let prefix = "/opt/mcp-gen-install-test-\(getpid())"
    try Self.run("install", ["PREFIX=\(prefix)", "DESTDIR=\(stage)"])
    #expect(Self.files(stage + prefix) == Self.installed.sorted(), "\(Self.files(stage))")
    #expect(!FileManager.default.fileExists(atPath: prefix), "install wrote to PREFIX itself")
    let version = try CLI.runProcess(stage + prefix + "/bin/mcp-gen", ["--version"], environment: nil)
    #expect(version.status == 0)
    try Self.run("uninstall", ["PREFIX=\(prefix)", "DESTDIR=\(stage)"])
    #expect(Self.files(stage).isEmpty, "left behind: \(Self.files(stage))")
  }
}
