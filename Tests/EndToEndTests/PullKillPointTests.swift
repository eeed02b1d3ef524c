import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenSystem
import Testing

/// A pull killed (SIGKILL, at a debug build's kill points: `MCP_GEN_DEBUG_KILL_AT`) after it
/// gave its objects' names up to the tree it stores, after the store sealed that tree, or
/// between clearing and setting the flag of a stored file it shares; and a gc killed between
/// clearing and setting a shared file's flag. Run again, each completes, downloads nothing it
/// had verified, audits clean, and leaves every stored file immutable (as root).
@Suite("pull and gc killed at their kill points", .serialized, .enabled(if: SrvSite.toolsInstalled, "needs nginx, curl and python3"))
struct PullKillPointTests {
  static func killed(_ point: String) -> [String: String] {
    Gen.childEnvironment.merging(["MCP_GEN_DEBUG_KILL_AT": point]) { $1 }
  }

  /// Object requests nginx logged after the first `skip` lines.
  static func objectRequests(_ site: SrvSite, after skip: Int) -> [String] {
    SrvSite.objectDigests(Array(site.nginx.accessLog().dropFirst(skip)))
  }

  /// The regular files below `entry` that lack FS_IMMUTABLE_FL.
  static func mutableFiles(_ entry: String) -> [String] {
    var out: [String] = []
    let enumerator = FileManager.default.enumerator(atPath: entry)
    while let relative = enumerator?.nextObject() as? String {
      let path = entry + "/" + relative
      var st = stat()
      guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
      let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)
      defer { if fd >= 0 { close(fd) } }
      let immutable = fd >= 0 && ((try? Syscall.getInodeFlags(fd).get())?.contains(.immutable) ?? false)
      if !immutable { out.append(relative) }
    }
    return out
  }

  /// Every regular file below `entry` carries FS_IMMUTABLE_FL (checked only where flags work).
  static func expectImmutable(_ entry: String, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard TestEnvironment.immutableFlagWorks else { return }
    let left = mutableFiles(entry)
    #expect(left.isEmpty, "\(context): not immutable: \(left)", sourceLocation: sourceLocation)
  }

  @Test("a full pull killed after it dropped its objects' names, or after its tree was sealed: the next pull downloads nothing",
        arguments: ["pull-objects-dropped", "verified-tree-sealed"])
  func killedAfterObjectsDropped(point: String) throws {
    let site = try SrvSite()
    defer { site.stop() }
    let key = try site.publish("mcp-1.0", version: "1.0", files: 10)
    try site.addRemote()
    let before = site.nginx.accessLog().count
    let dead = try Rel.run(["pull", "origin", "--root", site.client], outputIn: site.scratch.path, environment: Self.killed(point))
    #expect(dead.signal == SIGKILL, "\(point): \(dead)")
    #expect(Self.objectRequests(site, after: before).count == site.remoteObjects().count)
    #expect(Rel.storeKeys(site.client).isEmpty)
    #expect(FileManager.default.fileExists(atPath: site.trusted + "/partial/tree"), "the killed pull left its tree")
    let named = ((try? FileManager.default.contentsOfDirectory(atPath: site.trusted + "/partial/objects")) ?? []).filter(Rel.isKey)
    #expect(named.isEmpty, "no content is named in objects/: the downloads went to the tree")

    let again = site.nginx.accessLog().count
    let (run, json) = try site.pullJSON()
    #expect(run.status == 0, "\(point): \(run)")
    #expect(json?["key"] as? String == key)
    #expect(Self.objectRequests(site, after: again).isEmpty, "\(point): downloaded again")
    #expect((json?["downloaded"] as? [String: Any])?["objects"] as? Int == 0)
    #expect(Rel.storeKeys(site.client) == [key])
    #expect(try Oracle.key(site.client + "/store/" + key) == key)
    #expect(!FileManager.default.fileExists(atPath: site.trusted + "/partial"))
    Self.expectImmutable(site.client + "/store/" + key, point)
    try Rel.expectSoundRoot(site.client, outputIn: site.scratch.path, "after the resumed pull (\(point))")
  }

  /// `mcp-1.0` published and pulled, then `mcp-1.1` published: the same ten data files, another
  /// VERSION (ten contents a pull of it shares with the stored release). Their keys.
  static func twoReleases(_ site: SrvSite) throws -> (first: String, second: String) {
    let first = try site.publish("mcp-1.0", version: "1.0", files: 10)
    try site.addRemote()
    try site.pull(["pull", "origin"]).requireSuccess("first pull")
    return (first, try site.publish("mcp-1.1", version: "1.1", files: 10))
  }

  @Test("an update killed between clearing and setting the flag of a stored file it shares: the next pull completes and the flag is back")
  func killedWhileSharing() throws {
    let site = try SrvSite()
    defer { site.stop() }
    let (first, second) = try Self.twoReleases(site)
    let before = site.nginx.accessLog().count
    let dead = try Rel.run(["pull", "origin", "--root", site.client], outputIn: site.scratch.path, environment: Self.killed("link-flag-cleared"))
    #expect(dead.signal == SIGKILL, "\(dead)")
    #expect(Self.objectRequests(site, after: before).count == 1, "only VERSION is downloaded")
    #expect(Rel.storeKeys(site.client) == [first])
    if TestEnvironment.immutableFlagWorks {
      // One per linking thread at most: each may be between its clear and its set when the
      // kill lands.
      let cleared = Self.mutableFiles(site.client + "/store/" + first).count
      #expect(cleared >= 1 && cleared <= min(ProcessInfo.processInfo.activeProcessorCount, 8), "the kill left \(cleared) stored files without their flag")
    }

    let again = site.nginx.accessLog().count
    let (run, json) = try site.pullJSON()
    #expect(run.status == 0, "\(run)")
    #expect(json?["key"] as? String == second)
    #expect(Self.objectRequests(site, after: again).isEmpty, "downloaded again")
    #expect(Set(Rel.storeKeys(site.client)) == [first, second])
    var st1 = stat(), st2 = stat()
    #expect(lstat(site.client + "/store/\(first)/data/f3", &st1) == 0 && lstat(site.client + "/store/\(second)/data/f3", &st2) == 0)
    #expect(st1.st_ino == st2.st_ino, "data/f3 is shared")
    Self.expectImmutable(site.client + "/store/" + first, "the first release")
    Self.expectImmutable(site.client + "/store/" + second, "the second release")
    try Rel.expectSoundRoot(site.client, outputIn: site.scratch.path, "after the resumed pull")
  }

  @Test("gc killed between clearing and setting a flag while it deletes an entry that shares files: gc again leaves the other entry immutable")
  func gcKilledWhileDeleting() throws {
    let site = try SrvSite()
    defer { site.stop() }
    let (_, second) = try Self.twoReleases(site)
    try site.pull(["pull", "origin", "--switch", "--no-checks"]).requireSuccess("second pull")
    let gc = ["gc", "--root", site.client, "--keep", "1", "--grace", "0"]
    let dead = try Rel.run(gc, outputIn: site.scratch.path, environment: Self.killed("shared-flag-cleared"))
    #expect(dead.signal == SIGKILL || !TestEnvironment.immutableFlagWorks, "\(dead)")
    #expect(Rel.storeKeys(site.client) == [second])
    if TestEnvironment.immutableFlagWorks {
      #expect(Self.mutableFiles(site.client + "/store/" + second).count == 1, "the kill left one kept file without its flag")
    }

    try Rel.run(gc, outputIn: site.scratch.path).requireSuccess("gc again")
    #expect(Rel.storeKeys(site.client) == [second])
    #expect(try Oracle.key(site.client + "/store/" + second) == second)
    Self.expectImmutable(site.client + "/store/" + second, "the entry gc kept")
    try Rel.expectSoundRoot(site.client, outputIn: site.scratch.path, "after gc")
  }
}
