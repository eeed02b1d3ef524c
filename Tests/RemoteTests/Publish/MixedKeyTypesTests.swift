import Foundation
import MCPGenKit
@testable import MCPGenRemote
import MCPGenSystem
import SystemPackage
import Testing

/// A remote whose roles use the three key types: python-tuf's Metadata API checks every
/// signature (it re-serializes "signed" canonically, so the bytes must agree too).
@Suite("publisher: RSA, ECDSA and Ed25519 role keys", .enabled(if: PythonPeer.available, "needs python-tuf (scripts/python-tuf.sh)"))
struct MixedKeyTypesTests {
  static let verify = """
    import sys, os
    from tuf.api.metadata import Metadata, Root, Timestamp, Snapshot, Targets
    md = os.path.join(sys.argv[1], "metadata")
    root = Metadata[Root].from_file(f"{md}/1.root.json")
    root.verify_delegate("root", root)
    new = Metadata[Root].from_file(f"{md}/2.root.json")
    root.verify_delegate("root", new); new.verify_delegate("root", new)
    ts = Metadata[Timestamp].from_file(f"{md}/timestamp.json")
    new.verify_delegate("timestamp", ts)
    snap = Metadata[Snapshot].from_file(f"{md}/{ts.signed.snapshot_meta.version}.snapshot.json")
    new.verify_delegate("snapshot", snap)
    targets = Metadata[Targets].from_file(f"{md}/{snap.signed.meta['targets.json'].version}.targets.json")
    new.verify_delegate("targets", targets)
    print(sorted({k.keytype for k in new.signed.keys.values()}), len(targets.signed.targets))
    """

  @Test("init, publish and rotate with RSA, ECDSA and Ed25519 keys verify in python-tuf")
  func mixedKeys() throws {
    let f = try PublishFixture()
    let rsaRoot = try TUFSigner(privateKey: try PrivateKey.generate(.rsa))
    let ecdsaTargets = try TUFSigner(privateKey: try PrivateKey.generate(.ecdsa))
    let dir = FilePath(f.dir + "/mixed")
    _ = try Publisher.initialize(dir, rootKeys: [rsaRoot], threshold: 1, targetsKey: ecdsaTargets, onlineKey: f.online)
    let key = try f.add("a", files: 2)
    _ = try Publisher(remote: try RemoteDirectory.open(dir)).publish(key, from: f.store, channels: [], targetsKey: ecdsaTargets, onlineKey: f.online)
    _ = try Publisher(remote: try RemoteDirectory.open(dir)).rotateRoot(oldRootKeys: [rsaRoot], new: Publisher.NewKeys(root: [rsaRoot, f.root], rootThreshold: 2))
    let out = try PythonPeer.script(Self.verify, [f.dir + "/mixed"])
    #expect(String(decoding: out, as: UTF8.self) == "['ecdsa', 'ed25519', 'rsa'] 1\n")
  }
}
