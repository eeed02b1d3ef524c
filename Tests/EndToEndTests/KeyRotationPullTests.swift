import Foundation
import Testing

/// An operator whose online key leaked rotates the targets and online keys with a new root;
/// a client that pulled before follows the new root (and, its timestamp and snapshot keys
/// changed, forgets their old versions: TUF's fast-forward recovery) and pulls the next release.
@Suite("pull across a rotation of the targets and online keys", .serialized, .enabled(if: SrvSite.toolsInstalled))
struct KeyRotationPullTests {
  @Test("after --rotate-root --new-targets-key --new-online-key, the client pulls the release signed by the new keys")
  func clientFollows() throws {
    let site = try SrvSite()
    defer { site.stop() }
    let p = site.publisher
    try site.publish("rel1", version: "1.0")
    try site.addRemote()
    #expect(try site.pull(["pull", "origin"]).status == 0)

    try p.ok(["key", "generate", p.key("targets2")])
    try p.ok(["key", "generate", p.key("online2")])
    let rotated = try p.ok([
      "publish", p.remote, "--rotate-root", "--root-key", p.key("root"), "--new-targets-key", p.key("targets2"),
      "--new-online-key", p.key("online2"), "--json",
    ])
    let summary = try JSONSerialization.jsonObject(with: Data(rotated.stdout)) as? [String: Any]
    #expect(summary?["root"] as? Int == 2 && summary?["targetsKey"] is String && summary?["onlineKey"] is String)
    // The old online key signs nothing any more.
    let refresh = try p.run(["publish", p.remote, "--refresh", "--online-key", p.key("online")])
    #expect(refresh.status == 1, "\(refresh.stderrText)")

    // Nothing new yet: the client takes root 2 and the re-signed metadata, and stays.
    let (same, sameJSON) = try site.pullJSON()
    #expect(same.status == 0, "\(same.stderrText)")
    #expect(sameJSON?["changed"] as? Bool == false)
    let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: site.trusted + "/root.json"))) as? [String: Any]
    #expect((root?["signed"] as? [String: Any])?["version"] as? Int == 2)

    let tree = try p.release("rel2", version: "2.0", files: 6, seed: "two ")
    let added = try p.ok(["add", tree, "--label", "2.0"])
    let key2 = try #require(Rel.addedKey(added))
    try p.ok(["publish", p.remote, "2.0", "--targets-key", p.key("targets2"), "--online-key", p.key("online2")])
    let (next, nextJSON) = try site.pullJSON()
    #expect(next.status == 0, "\(next.stderrText)")
    #expect(nextJSON?["key"] as? String == key2 && nextJSON?["changed"] as? Bool == true)
    #expect(FileManager.default.fileExists(atPath: site.client + "/store/" + key2))
  }
}
