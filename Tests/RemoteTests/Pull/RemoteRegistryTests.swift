import Foundation
import MCPGenKit
import MCPGenRemote
import SystemPackage
import Testing

@Suite("remotes of a root: add, list, remove, leftovers")
struct RemoteRegistryTests {
  @Test("remove deletes the remote's directory and partial download; releases pulled from it stay stored")
  func removeKeepsReleases() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let key = try f.remote.publish(try f.scratch.release("r1", ["a": "a\n"]))
    _ = try f.pull()
    let registry = RemoteRegistry(store: f.store)
    #expect(try registry.list().map(\.name.text) == ["origin"])
    #expect(try registry.list().first?.rootVersion == 1)

    let removed = try registry.remove(f.name)

    #expect(removed.url.text == f.remote.url)
    #expect(try registry.list().isEmpty)
    #expect(try f.store.contains(key))
    #expect(try FileManager.default.contentsOfDirectory(atPath: f.scratch.at("root/remotes")).isEmpty)
    #expect(errorCode { _ = try registry.open(f.name) } == .notFound)
  }

  @Test("gc removes a remotes/.tmp-* left by a remote add or remove that died")
  func gcRemovesTemporaries() throws {
    let f = try PullFixture()
    defer { f.scratch.remove() }
    let dead = f.scratch.at("root/remotes/.tmp-99999999-0123456789abcdef")
    try FileManager.default.createDirectory(atPath: dead, withIntermediateDirectories: false)
    try Data("{}".utf8).write(to: URL(fileURLWithPath: dead + "/root.json"))

    let report = try f.store.collectGarbage(keep: 5)

    #expect(report.leftovers.contains(Array("remotes/.tmp-99999999-0123456789abcdef".utf8)))
    #expect(!FileManager.default.fileExists(atPath: dead))
    #expect(FileManager.default.fileExists(atPath: f.scratch.at("root/remotes/origin/remote.json")))
  }

  @Test("a remote's URL loses its trailing slashes and derives metadata, targets and object URLs")
  func urls() throws {
    let url = try RemoteURL("https://example.org/mcp//")
    #expect(url.text == "https://example.org/mcp")
    #expect(url.metadataURL == "https://example.org/mcp/metadata/")
    #expect(url.targetsURL == "https://example.org/mcp/targets/")
    #expect(url.objectURL(String(repeating: "ab", count: 32)) == "https://example.org/mcp/objects/ab/" + String(repeating: "ab", count: 31))
  }
}
