import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// `remote add|list|remove` through the built binary. `pull` through the binary, from nginx:
/// PullServerTests.swift (`Tests/RemoteTests/Pull/` tests the pull itself with doubles).
@Suite("remote add, list and remove (end to end)")
struct RemoteCommandTests {
  /// A TUF root signed by its own key (fixtures/remote/make-root.py made it).
  static let rootJSON = (try? String(contentsOfFile: CLI.fixture("remote/1.root.json"), encoding: .utf8)) ?? ""

  /// The same root without its signature.
  static var unsignedRootJSON: String {
    guard let start = rootJSON.range(of: #""signatures":["#), let end = rootJSON.range(of: #"],"signed""#) else { return rootJSON }
    return rootJSON.replacingCharacters(in: start.upperBound..<end.lowerBound, with: "")
  }

  static func writeRoot(_ scratch: Scratch, _ text: String = rootJSON) throws -> String {
    let path = scratch.at("1.root.json")
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test("add copies the trusted root byte for byte and writes remote.json; list shows it; remove deletes it")
  func addListRemove() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let trust = try Self.writeRoot(scratch)

    let added = try CLI.run(["remote", "add", "origin", "https://example.org/mcp/", "--trust", trust, "--root", root])
    #expect(added.status == 0, "\(added.stderrText)")
    #expect(added.stdoutText == "added remote origin (https://example.org/mcp), trusting its root version 1\n")
    #expect(FileManager.default.contents(atPath: root + "/remotes/origin/root.json") == Data(Self.rootJSON.utf8))
    #expect(FileManager.default.contents(atPath: root + "/remotes/origin/remote.json") == Data(#"{"url":"https://example.org/mcp"}\#n"#.utf8))
    let mode = try FileManager.default.attributesOfItem(atPath: root + "/remotes/origin/root.json")[.posixPermissions] as? Int
    #expect(mode == 0o644)

    // Global options before the group's name land after the nested subcommand's.
    let second = try CLI.run(["--root", root, "remote", "add", "mirror", "file:///srv/mcp", "--trust", trust])
    #expect(second.status == 0, "\(second.stderrText)")

    let list = try CLI.run(["remote", "list", "--root", root])
    #expect(list.status == 0)
    #expect(list.stdoutText == "mirror  file:///srv/mcp  root v1\norigin  https://example.org/mcp  root v1\n")
    let json = try CLI.run(["remote", "list", "--root", root, "--json"])
    let remotes = (try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])?["remotes"] as? [[String: Any]]
    #expect(remotes?.map { $0["name"] as? String } == ["mirror", "origin"])

    let removed = try CLI.run(["remote", "remove", "origin", "--root", root])
    #expect(removed.status == 0, "\(removed.stderrText)")
    #expect(!FileManager.default.fileExists(atPath: root + "/remotes/origin"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/remotes") == ["mirror"])
    #expect(try CLI.run(["remote", "list", "--root", root]).stdoutText == "mirror  file:///srv/mcp  root v1\n")
  }

  @Test("a remote that exists, a bad name, a bad URL, a file that is no root, and an unknown remote are refused with one line")
  func refusals() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    let trust = try Self.writeRoot(scratch)
    #expect(try CLI.run(["remote", "add", "origin", "https://example.org", "--trust", trust, "--root", root]).status == 0)

    let twice = try CLI.run(["remote", "add", "origin", "https://example.org/other", "--trust", trust, "--root", root])
    #expect(twice.status == 1)
    #expect(twice.stderrText.hasPrefix("error: a remote named origin exists already"))
    for name in ["../x", ".hidden", "-x", "a/b", "", String(repeating: "a", count: 65)] {
      let bad = try CLI.run(["remote", "add", "--root", root, "--trust", trust, "--", name, "https://example.org"])
      #expect(bad.status == 1, "name \(name)")
      #expect(bad.stderrText.contains("is not a remote name"), "name \(name): \(bad.stderrText)")
    }
    for url in ["ftp://example.org", "example.org", "https://exa mple.org", "https://"] {
      let bad = try CLI.run(["remote", "add", "other", url, "--trust", trust, "--root", root])
      #expect(bad.status == 1, "url \(url)")
      #expect(bad.stderrText.contains("is not a remote URL"), "url \(url): \(bad.stderrText)")
    }
    let notRoot = scratch.at("timestamp.json")
    try Data(#"{"signed":{"_type":"timestamp","version":1},"signatures":[]}"#.utf8).write(to: URL(fileURLWithPath: notRoot))
    let wrong = try CLI.run(["remote", "add", "other", "https://example.org", "--trust", notRoot, "--root", root])
    #expect(wrong.status == 7)
    #expect(wrong.stderrText.contains("is not a TUF root"))
    #expect(Self.unsignedRootJSON.contains(#""signatures":[],"signed""#))
    let unsigned = try Self.writeRoot(scratch, Self.unsignedRootJSON)
    #expect(try CLI.run(["remote", "add", "other", "https://example.org", "--trust", unsigned, "--root", root]).status == 7)
    #expect(!FileManager.default.fileExists(atPath: root + "/remotes/other"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/remotes") == ["origin"])

    let unknown = try CLI.run(["remote", "remove", "nope", "--root", root])
    #expect(unknown.status == 1)
    #expect(unknown.stderrText.hasPrefix("error: no remote named nope"))
    let pull = try CLI.run(["pull", "nope", "--root", root])
    #expect(pull.status == 1)
    #expect(pull.stderrText.hasPrefix("error: no remote named nope"))
  }
}
