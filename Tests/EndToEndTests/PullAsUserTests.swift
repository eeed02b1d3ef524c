import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A pull by a user who is not root into a root of their own: no immutable flags, and a sealed
/// tree cannot be renamed from partial/ into store/ (a directory moved to another parent needs
/// write permission on itself), so the store moves it into store/ before sealing it.
@Suite("pull as a user who is not root")
struct PullAsUserTests {
  @Test(
    "a full pull and an update as nobody: stored, shared inodes, audit clean",
    .enabled(if: geteuid() == 0 && Rel.setprivPath != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"),
             "needs root (to become nobody), setpriv and curl"))
  func pullAsNobody() throws {
    let publisher = try PubRemote()
    defer { publisher.remove() }
    let other = try Scratch(forOtherUsers: true)
    defer { other.remove() }
    let remote = other.path + "/remote"
    let client = other.path + "/client"
    try publisher.ok(["add", try publisher.release("r1", version: "1.0", files: 6), "--label", "1.0"])
    try publisher.ok(publisher.publishArguments("1.0"))
    let copy = { () throws in
      _ = try CLI.runProcess("/bin/rm", ["-rf", remote], environment: nil)
      try CLI.runProcess("/bin/cp", ["-a", publisher.remote, remote], environment: nil).requireSuccess("cp")
      try CLI.runProcess("/bin/chmod", ["-R", "a+rX", remote], environment: nil).requireSuccess("chmod")
    }
    try copy()
    mkdir(client, 0o755)
    chown(client, 65534, 65534)
    let nobody = [Rel.setprivPath!, "--reuid=65534", "--regid=65534", "--clear-groups", CLI.binary]
    let asNobody = { (arguments: [String]) throws -> CLI.Output in
      try CLI.runProcess(nobody[0], Array(nobody.dropFirst()) + arguments + ["--root", client], environment: Gen.childEnvironment)
    }
    try asNobody(["remote", "add", "origin", "file://" + remote, "--trust", remote + "/metadata/1.root.json"]).requireSuccess("remote add")
    let first = try asNobody(["pull", "origin"])
    #expect(first.status == 0, "\(first)")
    let k1 = Rel.storeKeys(client)
    #expect(k1.count == 1)

    try publisher.ok(["add", try publisher.release("r2", version: "1.1", files: 6), "--label", "1.1"])
    try publisher.ok(publisher.publishArguments("1.1"))
    try copy()
    let second = try asNobody(["pull", "origin", "--json"])
    #expect(second.status == 0, "\(second)")
    let keys = Rel.storeKeys(client)
    #expect(keys.count == 2)
    guard let k2 = keys.first(where: { !k1.contains($0) }), let old = k1.first else { return }
    var a = stat(), b = stat()
    #expect(lstat(client + "/store/\(old)/data/f2", &a) == 0 && lstat(client + "/store/\(k2)/data/f2", &b) == 0)
    #expect(a.st_ino == b.st_ino, "data/f2 is shared")
    #expect(a.st_uid == 65534)
    #expect(b.st_mode & 0o7777 == 0o444)
    #expect(try Oracle.key(client + "/store/" + k2) == k2)
    #expect(!FileManager.default.fileExists(atPath: client + "/remotes/origin/partial"))
    let audit = try asNobody(["audit"])
    #expect(audit.status == 0, "\(audit)")
    #expect(Rel.leftovers(client).isEmpty, "\(Rel.leftovers(client))")
  }
}
