import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// python-tuf (scripts/python-tuf.sh makes .build-venv) as the independent judge of what
/// `mcp-gen publish` writes, and a remote made by the built binary. Names start with `Pub` so
/// they cannot collide with other test files' helpers.
enum PubPeer {
  /// The venv's python, or nil when it cannot be made (no python3, no network for pip).
  static let python: String? = {
    guard let out = try? CLI.runProcess("/bin/bash", [CLI.packageRoot + "/scripts/python-tuf.sh"], environment: nil), out.status == 0 else {
      return nil
    }
    let path = out.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    return path.isEmpty ? nil : path
  }()

  static var available: Bool { python != nil }

  /// Runs a python program text with `arguments`.
  static func run(_ program: String, _ arguments: [String]) throws -> CLI.Output {
    guard let python else { throw E2EFailure("python-tuf is not available") }
    return try CLI.runProcess(python, ["-c", program] + arguments, environment: nil)
  }

  /// Verifies a remote directory with python-tuf's Metadata API alone: every root version
  /// signed by its own threshold and the previous one's, consecutive; timestamp, snapshot and
  /// targets signed by the keys root names for them, versions and lengths and hashes as the
  /// meta entries say, nothing expired; each target file (at its consistent-snapshot name)
  /// matches its length and hashes, and so does every object its manifest names. Prints a JSON summary; exits 1 on any failure.
  static let verify = #"""
    import sys, os, json, hashlib
    from tuf.api.metadata import Metadata, Root, Timestamp, Snapshot, Targets
    d = sys.argv[1]; md = os.path.join(d, "metadata")
    versions = sorted(int(n.split(".")[0]) for n in os.listdir(md) if n.endswith(".root.json"))
    assert versions == list(range(1, len(versions) + 1)), versions
    root = Metadata[Root].from_file(f"{md}/1.root.json")
    root.verify_delegate("root", root)
    for v in versions[1:]:
        new = Metadata[Root].from_file(f"{md}/{v}.root.json")
        root.verify_delegate("root", new)
        new.verify_delegate("root", new)
        assert new.signed.version == root.signed.version + 1
        root = new
    assert root.signed.consistent_snapshot
    ts = Metadata[Timestamp].from_bytes(open(f"{md}/timestamp.json", "rb").read())
    root.verify_delegate("timestamp", ts)
    sm = ts.signed.snapshot_meta
    assert sm.length is not None and sm.hashes
    snap_bytes = open(f"{md}/{sm.version}.snapshot.json", "rb").read()
    sm.verify_length_and_hashes(snap_bytes)
    snap = Metadata[Snapshot].from_bytes(snap_bytes)
    root.verify_delegate("snapshot", snap)
    assert snap.signed.version == sm.version
    tm = snap.signed.meta["targets.json"]
    assert tm.length is not None and tm.hashes
    t_bytes = open(f"{md}/{tm.version}.targets.json", "rb").read()
    tm.verify_length_and_hashes(t_bytes)
    targets = Metadata[Targets].from_bytes(t_bytes)
    root.verify_delegate("targets", targets)
    assert targets.signed.version == tm.version
    for m in (root, ts, snap, targets):
        assert not m.signed.is_expired(), m.signed.type
        assert m.signed.spec_version == "1.0.31"
    out = {}
    for name, tf in targets.signed.targets.items():
        h = tf.hashes["sha256"]
        assert name == "releases/" + h, name
        data = open(os.path.join(d, "targets", "releases", h + "." + h), "rb").read()
        tf.verify_length_and_hashes(data)
        # Every object the manifest names is there, with its size and SHA-256.
        rest = data[len(b"mcp-gen manifest 1\n"):]
        while rest:
            kind, size, digest, tail = rest.split(b" ", 3)
            path_, target, rest = tail.split(b"\0", 2)
            if kind in (b"f", b"x"):
                dg = digest.decode()
                obj = open(os.path.join(d, "objects", dg[:2], dg[2:]), "rb").read()
                assert len(obj) == int(size) and hashlib.sha256(obj).hexdigest() == dg, path_
        out[name] = tf.custom
    print(json.dumps({"root": root.signed.version, "timestamp": ts.signed.version, "snapshot": snap.signed.version,
                      "targets": targets.signed.version, "rootThreshold": root.signed.roles["root"].threshold,
                      "releases": out}, sort_keys=True))
    """#

  /// python-tuf's ngclient.Updater, trusting ROOT, downloads target NAME from URL; then every
  /// object the manifest names is fetched from URL/objects/ and checked against its SHA-256
  /// and size. Prints "ok FILES BYTES".
  static let download = #"""
    import sys, os, shutil, hashlib, urllib.request
    from tuf.ngclient import Updater
    url, trusted, metadir, targetdir, name = sys.argv[1:6]
    os.makedirs(metadir, exist_ok=True); os.makedirs(targetdir, exist_ok=True)
    if not os.path.exists(os.path.join(metadir, "root.json")):
        shutil.copy(trusted, os.path.join(metadir, "root.json"))
    u = Updater(metadata_dir=metadir, metadata_base_url=url + "/metadata/", target_base_url=url + "/targets/", target_dir=targetdir, bootstrap=None)
    u.refresh()
    info = u.get_targetinfo(name)
    assert info is not None, "no target " + name
    path = u.download_target(info)
    manifest = open(path, "rb").read()
    assert hashlib.sha256(manifest).hexdigest() == name.split("/")[-1]
    header = b"mcp-gen manifest 1\n"
    assert manifest.startswith(header)
    rest = manifest[len(header):]
    files = total = 0
    while rest:
        kind, size, digest, tail = rest.split(b" ", 3)
        path_, target, rest = tail.split(b"\0", 2)
        if kind in (b"f", b"x"):
            d = digest.decode()
            data = urllib.request.urlopen(f"{url}/objects/{d[:2]}/{d[2:]}").read()
            assert hashlib.sha256(data).hexdigest() == d and len(data) == int(size), path_
            files += 1; total += len(data)
    print("ok", files, total, u._trusted_set.root.version)
    """#
}

/// A scratch directory with three keys (root, targets, online), a store root and a remote.
final class PubRemote {
  let scratch: Scratch
  var root: String { scratch.at("root") }
  var remote: String { scratch.at("remote") }
  func key(_ name: String) -> String { scratch.at(name + ".key") }

  init(rootKeys: [String] = ["root"], threshold: Int = 1) throws {
    scratch = try Scratch()
    for name in rootKeys + ["targets", "online"] {
      try ok(["key", "generate", key(name)])
    }
    try ok(["publish", "init", remote, "--threshold", String(threshold), "--targets-key", key("targets"), "--online-key", key("online")]
      + rootKeys.flatMap { ["--root-key", key($0)] })
  }

  func remove() { scratch.remove() }

  @discardableResult
  func run(_ arguments: [String]) throws -> CLI.Output { try CLI.run(arguments + ["--root", root]) }

  @discardableResult
  func ok(_ arguments: [String]) throws -> CLI.Output {
    let out = try run(arguments)
    guard out.status == 0 else { throw E2EFailure("mcp-gen \(arguments.joined(separator: " ")): exit \(out.status): \(out.stderrText)") }
    return out
  }

  /// The publish command line of `release` (N, key or label).
  func publishArguments(_ release: String, channels: [String] = []) -> [String] {
    ["publish", remote, release, "--targets-key", key("targets"), "--online-key", key("online")] + channels.flatMap { ["--channel", $0] }
  }

  /// Writes a release tree `name` with `files` files of `size` bytes (content from `seed`) and
  /// a VERSION file; returns its path.
  func release(_ name: String, version: String, files: Int, size: Int = 100, seed: String = "") throws -> String {
    let dir = scratch.at(name)
    try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
    try Data((version + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/VERSION"))
    for k in 0..<files {
      let line = "\(seed)file \(k) "
      var text = String(repeating: line, count: size / line.utf8.count + 1)
      text = String(text.utf8.prefix(size))!
      try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/data/f\(k)"))
    }
    return dir
  }

  /// Python's verdict on the remote (a JSON summary), or the failure.
  func verify() throws -> [String: Any] {
    let out = try PubPeer.run(PubPeer.verify, [remote])
    guard out.status == 0 else { throw E2EFailure("python-tuf refused the remote: \(out.stderrText)") }
    return try JSONSerialization.jsonObject(with: Data(out.stdout)) as? [String: Any] ?? [:]
  }

  /// Bytes of every file under objects/.
  func objectBytes() -> Int {
    var total = 0
    let enumerator = FileManager.default.enumerator(atPath: remote + "/objects")
    while let name = enumerator?.nextObject() as? String {
      if let attrs = try? FileManager.default.attributesOfItem(atPath: remote + "/objects/" + name),
        attrs[.type] as? FileAttributeType == .typeRegular
      {
        total += (attrs[.size] as? Int) ?? 0
      }
    }
    return total
  }
}
