import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import MCPGenKit
import MCPGenSystem
import SystemPackage
import Testing

/// What the remote commands add to `TrustedPath`: reading a file through the walk's own
/// descriptor, judging a directory as a parent, judging a held descriptor's status, and the
/// checks of `remotes/` (`RemoteTrust`).
@Suite("trusted paths: reading, parents, remotes/", .serialized)
struct TrustedPathReadTests {
  @Test("openForReading hands back the judged file, open for reading, also through a symlink; a directory or a FIFO gives no file and does not block")
  func openForReading() throws {
    let d = try Scratch(forOtherUsers: true)
    defer { d.remove() }
    try d.makeDirectory("a")
    try d.writeFile("a/root.json", "trusted bytes")
    symlink("a/root.json", d.at("link"))
    for path in [d.at("a/root.json"), d.at("link")] {
      let walked = try TrustedPath.openForReading(FilePath(path))
      #expect(walked.problems.isEmpty)
      let file = try #require(walked.file)
      #expect(try file.readAll() == Array("trusted bytes".utf8))
      #expect(try file.stat().isSameFile(as: walked.resolved))
    }
    #expect(try TrustedPath.openForReading(FilePath(d.at("a"))).file == nil)
    #expect(mkfifo(d.at("a/fifo"), 0o644) == 0)
    let fifo = try TrustedPath.openForReading(FilePath(d.at("a/fifo")))
    #expect(fifo.file == nil && fifo.resolved.type == .fifo)
  }

  @Test("lastIsParent: a sticky directory anyone may write passes as a parent, not as the path itself; without the sticky bit it never passes")
  func parentDirectory() throws {
    let d = try Scratch(forOtherUsers: true)
    defer { d.remove() }
    try d.makeDirectory("sticky", mode: 0o1777)
    chmod(d.at("sticky"), 0o1777)
    try d.makeDirectory("open", mode: 0o777)
    chmod(d.at("open"), 0o777)
    #expect(try TrustedPath.problem(FilePath(d.at("sticky")), lastIsParent: true) == nil)
    let asItself = try #require(try TrustedPath.problem(FilePath(d.at("sticky"))))
    // The sticky bit is there; it just does not count for the path itself.
    #expect(asItself.description == "\(d.at("sticky")) is writable by group and others (owner root, mode 1777)")
    #expect(try TrustedPath.problem(FilePath(d.at("open")), lastIsParent: true)?.kind == .writable)
    let open = try #require(try TrustedPath.problem(FilePath(d.at("open"))))
    #expect(open.description.hasSuffix("(owner root, mode 0777, no sticky bit)"))
    #expect(open.withMode == open.description, "a mode problem names the mode already")
  }

  @Test("problems(of:) judges a held descriptor's status as the walk judges a component")
  func judgeStatus() throws {
    let d = try Scratch(forOtherUsers: true)
    defer { d.remove() }
    try d.makeDirectory("sticky", mode: 0o1777)
    chmod(d.at("sticky"), 0o1777)
    try d.writeFile("file", "x", mode: 0o664)
    chmod(d.at("file"), 0o664)
    let sticky = try DirectoryFD.open(FilePath(d.at("sticky"))).fstat()
    #expect(TrustedPath.problems(of: sticky, at: FilePath(d.at("sticky")), last: false).isEmpty)
    #expect(TrustedPath.problems(of: sticky, at: FilePath(d.at("sticky")), last: true).map(\.kind) == [.writable])
    let file = try DirectoryFD.open(FilePath(d.path)).stat(Array("file".utf8))
    #expect(TrustedPath.problems(of: file, at: FilePath(d.at("file")), last: false).map(\.kind) == [.writable])
    // Only root and the running user are trusted owners by default.
    #expect(TrustedPath.problems(of: file, at: FilePath(d.at("file")), last: true, owners: TrustedOwners(uids: [12345])).map(\.kind) == [.owner, .writable])
  }

  @Test("RemoteTrust: the root's remotes/, each remote's directory and every entry in it, no sticky exception; the remotes asked about only; hidden temporaries skipped when all are")
  func remotes() throws {
    let d = try Scratch(forOtherUsers: true)
    defer { d.remove() }
    try d.makeDirectory("root")
    try d.makeDirectory("root/remotes")
    for name in ["a", "b", ".tmp-1-00"] {
      try d.makeDirectory("root/remotes/" + name)
      try d.writeFile("root/remotes/\(name)/root.json", "{}")
    }
    let root = try DirectoryFD.open(FilePath(d.at("root")))
    #expect(try RemoteTrust.problems(root, remotes: nil).isEmpty)

    chmod(d.at("root/remotes/a/root.json"), 0o666)
    chmod(d.at("root/remotes/.tmp-1-00"), 0o777)
    #expect(try RemoteTrust.problems(root, remotes: nil).map(\.path) == [FilePath(d.at("root/remotes/a/root.json"))])
    #expect(try RemoteTrust.problems(root, remotes: [Array("b".utf8)]).isEmpty)
    #expect(try RemoteTrust.problems(root, remotes: [Array("missing".utf8)]).isEmpty)
    chmod(d.at("root/remotes/a/root.json"), 0o644)

    chmod(d.at("root/remotes"), 0o1777)
    let sticky = try RemoteTrust.problems(root, remotes: [])
    #expect(sticky.map(\.path) == [FilePath(d.at("root/remotes"))] && sticky.first?.kind == .writable)
    chmod(d.at("root/remotes"), 0o755)

    // The root is judged with everything above it, and must be the directory held open.
    try d.makeDirectory("elsewhere")
    #expect(rename(d.at("root"), d.at("moved")) == 0 && rename(d.at("elsewhere"), d.at("root")) == 0)
    #expect(throws: MCPGenError.self) { try RemoteTrust.problems(root, remotes: nil) }
  }
}
