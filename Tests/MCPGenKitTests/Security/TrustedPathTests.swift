import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// `TrustedPath`: the StrictModes rule, walked one component at a time.
@Suite("trusted paths", .serialized)
struct TrustedPathTests {
  static func problem(_ path: String, owners: TrustedOwners = .current) throws -> TrustProblem? {
    try TrustedPath.problem(FilePath(path), owners: owners)
  }

  @Test("a path owned by root down from /, mode 0755/0644, passes; so does one reached through .. and a relative symlink")
  func trusted() throws {
    // Under /tmp, root-owned 0711 (/tmp is sticky, so acceptable as a parent).
    let d = try Scratch(forOtherUsers: true)
    defer { d.remove() }
    try d.makeDirectory("a")
    try d.makeDirectory("a/b")
    #expect(FileManager.default.createFile(atPath: d.at("a/b/file"), contents: Data()))
    chmod(d.at("a/b/file"), 0o644)
    symlink("a/b", d.at("link"))
    #expect(try Self.problem(d.at("a/b/file")) == nil)
    #expect(try Self.problem(d.at("a/../a/b/./file")) == nil)
    #expect(try Self.problem(d.at("link/file")) == nil)
    #expect(try TrustedPath.problemIfPresent(FilePath(d.at("a/missing"))) == nil)
    #expect(throws: SystemCallError.self) { try Self.problem(d.at("a/missing")) }
  }

  @Test("writable by group or others: refused, except a parent directory with the sticky bit; the last component never gets that exception")
  func writable() throws {
    // Under /tmp, root-owned 0711 (/tmp is sticky, so acceptable as a parent).
    let d = try Scratch(forOtherUsers: true)
    defer { d.remove() }
    try d.makeDirectory("open", mode: 0o777)
    try d.makeDirectory("open/x")
    var p = try #require(try Self.problem(d.at("open/x")))
    #expect(p.kind == .writable && p.path == FilePath(d.at("open")))
    #expect(p.fix == "chmod go-w \(d.at("open"))")
    try d.makeDirectory("group", mode: 0o775)
    p = try #require(try Self.problem(d.at("group")))
    #expect(p.description == "\(d.at("group")) is writable by its group (owner root, mode 0775, no sticky bit)")
    try d.makeDirectory("sticky", mode: 0o1777)
    try d.makeDirectory("sticky/x")
    #expect(try Self.problem(d.at("sticky/x")) == nil)
    #expect(try Self.problem(d.at("sticky"))?.kind == .writable)
  }

  @Test(
    "owned by another user: the file, a parent, a symlink on the way, or a parent of a symlink's target; --allow-owner admits that user",
    .enabled(if: geteuid() == 0, "needs root to chown"))
  func owners() throws {
    // Under /tmp, root-owned 0711 (/tmp is sticky, so acceptable as a parent).
    let d = try Scratch(forOtherUsers: true)
    defer { d.remove() }
    try d.makeDirectory("theirs")
    try d.makeDirectory("theirs/dir")
    chown(d.at("theirs"), 65534, 65534)
    var p = try #require(try Self.problem(d.at("theirs/dir")))
    #expect(p.kind == .owner && p.path == FilePath(d.at("theirs")) && p.uid == 65534)
    #expect(p.description.hasPrefix("\(d.at("theirs")) is owned by nobody (uid 65534), not by root"))
    #expect(p.fix == "chown root \(d.at("theirs"))")
    #expect(try Self.problem(d.at("theirs/dir"), owners: try TrustedOwners.allowing("nobody")) == nil)

    // A root-owned symlink whose target lies below nobody's directory.
    symlink(d.at("theirs/dir"), d.at("link"))
    p = try #require(try Self.problem(d.at("link")))
    #expect(p.path == FilePath(d.at("theirs")))

    // A symlink nobody owns (it could replace it in a sticky directory) to a trusted directory.
    try d.makeDirectory("mine")
    try d.makeDirectory("sticky", mode: 0o1777)
    symlink(d.at("mine"), d.at("sticky/link"))
    lchown(d.at("sticky/link"), 65534, 65534)
    p = try #require(try Self.problem(d.at("sticky/link")))
    #expect(p.kind == .owner && p.path == FilePath(d.at("sticky/link")))
    #expect(try Self.problem(d.at("mine")) == nil)
  }

  @Test("a symlink loop ends in ELOOP, not a hang")
  func loop() throws {
    // Under /tmp, root-owned 0711 (/tmp is sticky, so acceptable as a parent).
    let d = try Scratch(forOtherUsers: true)
    defer { d.remove() }
    symlink("b", d.at("a"))
    symlink("a", d.at("b"))
    #expect {
      try Self.problem(d.at("a"))
    } throws: { ($0 as? SystemCallError)?.errno == .tooManySymbolicLinkLevels }
  }

  @Test("/proc/locks: the FLOCK holders of one device and inode; waiters (->) and other files are not holders")
  func procLocks() {
    let device = dev_t(0x08) << 8 | 0x01  // 08:01
    let table = Array("""
      1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF
      1: -> FLOCK  ADVISORY  WRITE 4343 08:01:1234 0 EOF
      2: FLOCK  ADVISORY  WRITE 99 08:01:1235 0 EOF
      3: POSIX  ADVISORY  WRITE 77 08:01:1234 0 EOF
      4: FLOCK  ADVISORY  READ 17 08:02:1234 0 EOF

      """.utf8)
    #expect(LockHolders.pids(in: table, device: UInt64(device), inode: 1234) == [4242])
    // Device numbers past 255 use glibc's split encoding; /proc/locks prints them in hex.
    let big = dev_t(0x103) << 8 & 0xfff00 | dev_t(0x1ab) & 0xff | (dev_t(0x1ab) & ~0xff) << 12
    #expect(LockHolders.pids(in: Array("5: FLOCK  ADVISORY  WRITE 5 103:1ab:9 0 EOF\n".utf8), device: UInt64(big), inode: 9) == [5])
  }

  @Test("config.json: keys compare after unescaping; comment keys may repeat; errors give line and column")
  func configKeys() throws {
    let path = FilePath("/r/config.json")
    #expect {
      try Config.parse(Array(#"{"checks": ["true"], "\u0063hecks": ["false"]}"#.utf8), path: path)
    } throws: { ($0 as? MCPGenError)?.message.contains("'checks' is given twice") == true }
    #expect(try Config.parse(Array(##"{"#": 1, "#": 2, "checks": ["true"]}"##.utf8), path: path).checks == ["true"])
    #expect {
      try Config.parse(Array("{\n \"checks\": [\"é\" x]}".utf8), path: path)
    } throws: { ($0 as? MCPGenError)?.message.contains("not valid JSON at line 2, column 17") == true }
    #expect(Config.lineAndColumn(Array("ab\ncdé\nx".utf8), 8) == (3, 1))
    #expect(Config.lineAndColumn(Array("ab\ncdé\nx".utf8), 7) == (2, 4))
  }
}
