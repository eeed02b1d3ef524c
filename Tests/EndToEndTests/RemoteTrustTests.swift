import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// store-layout.md section 4a, "Remotes": the remote commands run as root and take keys, trusted
/// roots and directories only from paths no other user can change. Files are handed to nobody
/// (uid 65534) with chown, and directories opened to everyone with chmod, as another user's
/// would be.
@Suite("remote trust: who may own what remote add, pull, publish and key read and write", .serialized)
struct RemoteTrustTests {
  static let nobody: uid_t = 65534
  static var asRoot: Bool { geteuid() == 0 }

  /// A remote with release 1.0 published, and a client root (`client`) that added it (file://).
  static func published() throws -> (PubRemote, String) {
    let r = try PubRemote()
    try r.ok(["add", try r.release("rel1", version: "1.0", files: 3)])
    try r.ok(r.publishArguments("1.0"))
    let client = r.scratch.at("client")
    let added = try CLI.run(["remote", "add", "origin", "file://" + r.remote, "--trust", r.remote + "/metadata/1.root.json", "--root", client])
    guard added.status == 0 else { throw E2EFailure("remote add: \(added.stderrText)") }
    return (r, client)
  }

  static func writeRootJSON(_ path: String) throws {
    try Data(RemoteCommandTests.rootJSON.utf8).write(to: URL(fileURLWithPath: path))
    chmod(path, 0o644)
  }

  static func makeDirectory(_ path: String, mode: mode_t) throws {
    try Rel.mkdir(Rel.bytes(path))
    chmod(path, mode)  // Not the umask's say.
  }

  /// The fan-out directory (`objects/<2 hex>`) of the file's content, by coreutils' sha256sum.
  static func fanOut(of file: String) throws -> String {
    let sum = try CLI.runProcess("/usr/bin/sha256sum", [file], environment: nil)
    let fanOut = String(sum.stdoutText.prefix(2))
    #expect(sum.status == 0 && fanOut.count == 2)
    return fanOut
  }

  static func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
  }

  // MARK: remote add --trust

  @Test(
    "remote add --trust: a root file nobody owns, one its group may write, one in a directory anyone may write (no sticky bit) or one nobody owns is refused with one line and no remote; in a sticky directory it is accepted",
    .enabled(if: RemoteTrustTests.asRoot, "needs root to chown"))
  func trustFile() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    func add(_ trust: String) throws -> CLI.Output {
      try CLI.run(["remote", "add", "origin", "https://example.org/mcp", "--trust", trust, "--root", root])
    }
    func refused(_ out: CLI.Output, _ trust: String, _ fault: String, _ fix: String, _ comment: Comment) {
      #expect(out.status == 1, comment)
      #expect(Gen.isOneLineError(out.stderrText), "\(comment): \(out.stderrText)")
      #expect(out.stderrText.hasPrefix("error: refusing trusted root \(trust): \(fault);"), "\(comment): \(out.stderrText)")
      #expect(out.stderrText.contains("; nothing was added (\(fix))\n"), "\(comment): \(out.stderrText)")
      #expect(out.stderrText.hasSuffix("\nhint: \(fix)\n"), "\(comment): \(out.stderrText)")
      #expect(!Self.exists(root + "/remotes/origin"), "\(comment): a remote was made")
    }

    let owned = scratch.at("owned.json")
    try Self.writeRootJSON(owned)
    chown(owned, Self.nobody, Self.nobody)
    refused(try add(owned), owned, "\(owned) is owned by nobody (uid 65534), not by root (mode 0644)", "chown root \(owned)", "owned by nobody")

    let groupWritable = scratch.at("group.json")
    try Self.writeRootJSON(groupWritable)
    chmod(groupWritable, 0o664)
    refused(
      try add(groupWritable), groupWritable, "\(groupWritable) is writable by its group (owner root, mode 0664)", "chmod go-w \(groupWritable)",
      "group-writable")

    let open = scratch.at("open")
    try Self.makeDirectory(open, mode: 0o777)
    try Self.writeRootJSON(open + "/1.root.json")
    refused(
      try add(open + "/1.root.json"), open + "/1.root.json", "\(open) is writable by group and others (owner root, mode 0777, no sticky bit)",
      "chmod go-w \(open)", "in a 0777 directory")

    let theirs = scratch.at("theirs")
    try Self.makeDirectory(theirs, mode: 0o755)
    try Self.writeRootJSON(theirs + "/1.root.json")
    chown(theirs, Self.nobody, Self.nobody)
    refused(
      try add(theirs + "/1.root.json"), theirs + "/1.root.json", "\(theirs) is owned by nobody (uid 65534), not by root (mode 0755)",
      "chown root \(theirs)", "in a directory nobody owns")

    // A sticky directory anyone may write (like /tmp) is fine above the file: nobody can
    // rename or remove what root put in it.
    let sticky = scratch.at("sticky")
    try Self.makeDirectory(sticky, mode: 0o1777)
    try Self.writeRootJSON(sticky + "/1.root.json")
    let accepted = try add(sticky + "/1.root.json")
    #expect(accepted.status == 0, "\(accepted.stderrText)")
    #expect(FileManager.default.contents(atPath: root + "/remotes/origin/root.json") == Data(RemoteCommandTests.rootJSON.utf8))
  }

  // MARK: pull and remote list

  @Test(
    "pull (with or without --switch) and remote list refuse when another user may change remotes/NAME/root.json, remote.json, remotes/NAME, remotes/ or the root: nothing stored or switched; doctor names the path and its fix; put right, the pull succeeds",
    .enabled(if: RemoteTrustTests.asRoot, "needs root to chown"))
  func pullRefused() throws {
    let (r, client) = try Self.published()
    defer { r.remove() }
    let dir = client + "/remotes/origin"
    let cases: [(path: String, fault: String, fix: String, make: (String) -> Int32, undo: (String) -> Int32)] = [
      (dir + "/root.json", "is owned by nobody (uid 65534), not by root (mode 0644)", "chown root",
       { chown($0, Self.nobody, Self.nobody) }, { chown($0, 0, 0) }),
      (dir + "/remote.json", "is writable by others (owner root, mode 0646)", "chmod go-w", { chmod($0, 0o646) }, { chmod($0, 0o644) }),
      (dir, "is writable by group and others (owner root, mode 0777, no sticky bit)", "chmod go-w", { chmod($0, 0o777) }, { chmod($0, 0o755) }),
      (dir, "is owned by nobody (uid 65534), not by root (mode 0755)", "chown root",
       { chown($0, Self.nobody, Self.nobody) }, { chown($0, 0, 0) }),
      // Sticky does not help here: others could create the names a pull reads.
      (client + "/remotes", "is writable by group and others (owner root, mode 1777)", "chmod go-w", { chmod($0, 0o1777) }, { chmod($0, 0o755) }),
      (client, "is owned by nobody (uid 65534), not by root (mode 0755)", "chown root",
       { chown($0, Self.nobody, Self.nobody) }, { chown($0, 0, 0) }),
    ]
    for c in cases {
      #expect(c.make(c.path) == 0)
      let before = Gen.snapshot(client)
      for switching in [false, true] {
        let out = try CLI.run(["pull", "origin", "--root", client] + (switching ? ["--switch"] : []))
        #expect(out.status == 1, "\(c.path) \(c.fault): \(out.stderrText)")
        #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
        #expect(out.stderrText.hasPrefix("error: refusing to pull from remote origin: \(c.path) \(c.fault); another user could make root trust their keys"),
                "\(out.stderrText)")
        #expect(out.stderrText.contains("; nothing was stored (\(c.fix) \(c.path))\n"), "\(out.stderrText)")
        #expect(out.stderrText.hasSuffix("\nhint: \(c.fix) \(c.path)\n"), "\(out.stderrText)")
      }
      #expect(Gen.snapshot(client) == before, "\(c.path) \(c.fault): the root changed")
      #expect(Rel.storeKeys(client).isEmpty)

      let list = try CLI.run(["remote", "list", "--root", client])
      #expect(list.status == 1 && list.stdoutText.isEmpty, "\(list.stderrText)")
      #expect(list.stderrText.hasPrefix("error: refusing to list remotes: \(c.path) \(c.fault);"), "\(list.stderrText)")

      let doctor = try DoctorTests.findings(client)
      #expect(doctor.status == 1)
      #expect(DoctorTests.status(doctor.byCheck, "trust") == "problem")
      // Doctor's line gives an owner problem without the mode.
      let doctorFault = c.fault.contains("owned by") ? String(c.fault[..<c.fault.range(of: " (mode")!.lowerBound]) : c.fault
      #expect(DoctorTests.message(doctor.byCheck, "trust").contains("\(c.path) \(doctorFault)"), "\(DoctorTests.message(doctor.byCheck, "trust"))")
      #expect(DoctorTests.message(doctor.byCheck, "trust").hasSuffix("pull and remote list will refuse the remotes until this is fixed"))
      #expect(DoctorTests.hint(doctor.byCheck, "trust") == "\(c.fix) \(c.path)")
      #expect(c.undo(c.path) == 0)
    }

    #expect(DoctorTests.status(try DoctorTests.findings(client).byCheck, "trust") == "ok")
    let pulled = try CLI.run(["pull", "origin", "--root", client])
    #expect(pulled.status == 0, "\(pulled.stderrText)")
    #expect(Rel.storeKeys(client).count == 1)
    // remote remove reads no trusted state: it is how a tampered remote goes away.
    chown(dir + "/root.json", Self.nobody, Self.nobody)
    let removed = try CLI.run(["remote", "remove", "origin", "--root", client])
    #expect(removed.status == 0, "\(removed.stderrText)")
  }

  // MARK: Key files

  @Test(
    "publish, publish init and --rotate-root refuse a private key group or others may read or write (chmod 600), one nobody owns, or one in a directory nobody owns; nothing is written",
    .enabled(if: RemoteTrustTests.asRoot, "needs root to chown"))
  func keyFiles() throws {
    let r = try PubRemote()
    defer { r.remove() }
    try r.ok(["add", try r.release("rel1", version: "1.0", files: 3)])
    let before = Gen.snapshot(r.remote)
    let targets = r.key("targets")

    for (mode, who) in [(0o644, "group and others"), (0o640, "its group"), (0o604, "others"), (0o620, "its group"), (0o602, "others")] as [(mode_t, String)] {
      chmod(targets, mode)
      let out = try r.run(r.publishArguments("1.0"))
      #expect(out.status == 1, "mode \(String(mode, radix: 8)): \(out.stderrText)")
      #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
      #expect(out.stderrText.hasPrefix(
        "error: refusing unprotected private key file \(targets): it is open to \(who) (owner root, mode 0\(String(mode, radix: 8)));"),
        "\(out.stderrText)")
      #expect(out.stderrText.hasSuffix("nothing was signed (chmod 600 \(targets))\nhint: chmod 600 \(targets)\n"), "\(out.stderrText)")
      #expect(Gen.snapshot(r.remote) == before)
    }
    chmod(targets, 0o600)

    chown(targets, Self.nobody, Self.nobody)
    var out = try r.run(r.publishArguments("1.0"))
    #expect(out.status == 1)
    #expect(out.stderrText.hasPrefix(
      "error: refusing key file \(targets): \(targets) is owned by nobody (uid 65534), not by root (mode 0600); another user could put a key of their own there"),
      "\(out.stderrText)")
    #expect(out.stderrText.hasSuffix("\nhint: chown root \(targets)\n"), "\(out.stderrText)")
    #expect(Gen.snapshot(r.remote) == before)
    chown(targets, 0, 0)

    // A root-owned 0600 key in a directory nobody owns: nobody could swap it.
    let keys = r.scratch.at("keys")
    try Self.makeDirectory(keys, mode: 0o755)
    try r.ok(["key", "generate", keys + "/new.key"])
    chown(keys, Self.nobody, Self.nobody)
    out = try r.run(["publish", r.remote, "--rotate-root", "--root-key", r.key("root"), "--new-root-key", keys + "/new.key"])
    #expect(out.status == 1)
    #expect(out.stderrText.hasPrefix("error: refusing key file \(keys)/new.key: \(keys) is owned by nobody (uid 65534), not by root (mode 0755);"),
            "\(out.stderrText)")
    #expect(Gen.snapshot(r.remote) == before)

    // publish init with an unprotected root key makes nothing.
    chmod(r.key("root"), 0o644)
    let fresh = r.scratch.at("fresh")
    out = try r.run(["publish", "init", fresh, "--root-key", r.key("root"), "--targets-key", targets, "--online-key", r.key("online")])
    #expect(out.status == 1)
    #expect(out.stderrText.hasPrefix("error: refusing unprotected private key file \(r.key("root")):"), "\(out.stderrText)")
    #expect(!Self.exists(fresh))
    chmod(r.key("root"), 0o600)

    try r.ok(r.publishArguments("1.0"))
  }

  @Test(
    "key generate refuses a directory anyone may write (no sticky bit) or nobody owns, and writes nothing; a sticky one is fine",
    .enabled(if: RemoteTrustTests.asRoot, "needs root to chown"))
  func keyGenerate() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let open = scratch.at("open")
    try Self.makeDirectory(open, mode: 0o777)
    var out = try CLI.run(["key", "generate", open + "/k"])
    #expect(out.status == 1)
    #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
    #expect(out.stderrText.hasPrefix(
      "error: refusing to write key file \(open)/k: \(open) is writable by group and others (owner root, mode 0777, no sticky bit); another user could take the new key away"),
      "\(out.stderrText)")
    #expect(out.stderrText.hasSuffix("\nhint: chmod go-w \(open)\n"), "\(out.stderrText)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: open).isEmpty)

    let theirs = scratch.at("theirs")
    try Self.makeDirectory(theirs, mode: 0o755)
    chown(theirs, Self.nobody, Self.nobody)
    out = try CLI.run(["key", "generate", theirs + "/k"])
    #expect(out.status == 1)
    #expect(out.stderrText.contains(": \(theirs) is owned by nobody (uid 65534), not by root (mode 0755);"), "\(out.stderrText)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: theirs).isEmpty)

    let sticky = scratch.at("sticky")
    try Self.makeDirectory(sticky, mode: 0o1777)
    out = try CLI.run(["key", "generate", sticky + "/k"])
    #expect(out.status == 0, "\(out.stderrText)")
    #expect(Self.exists(sticky + "/k") && Self.exists(sticky + "/k.pub"))
  }

  // MARK: The remote directory

  @Test(
    "publish, --refresh and publish init refuse a remote directory nobody owns or anyone may write, or a new one below such a directory; nothing is written; below a sticky directory init is fine",
    .enabled(if: RemoteTrustTests.asRoot, "needs root to chown"))
  func remoteDirectory() throws {
    let r = try PubRemote()
    defer { r.remove() }
    try r.ok(["add", try r.release("rel1", version: "1.0", files: 3)])
    let remote = r.remote
    for (make, undo, fault, fix) in [
      ({ chown(remote, Self.nobody, Self.nobody) }, { chown(remote, 0, 0) }, "is owned by nobody (uid 65534), not by root (mode 0755)", "chown root"),
      ({ chmod(remote, 0o777) }, { chmod(remote, 0o755) }, "is writable by group and others (owner root, mode 0777, no sticky bit)", "chmod go-w"),
      ({ chmod(remote + "/metadata", 0o775) }, { chmod(remote + "/metadata", 0o755) }, "is writable by its group (owner root, mode 0775, no sticky bit)", "chmod go-w"),
    ] as [(() -> Int32, () -> Int32, String, String)] {
      #expect(make() == 0)
      let before = Gen.snapshot(remote)
      let at = fault.contains("its group") ? remote + "/metadata" : remote
      for arguments in [r.publishArguments("1.0"), ["publish", remote, "--refresh", "--online-key", r.key("online")]] {
        let out = try r.run(arguments)
        #expect(out.status == 1, "\(arguments): \(out.stderrText)")
        #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
        #expect(out.stderrText.hasPrefix("error: refusing remote directory \(remote): \(at) \(fault); another user could swap its files for symlinks"),
                "\(out.stderrText)")
        #expect(out.stderrText.hasSuffix("nothing was written (\(fix) \(at))\nhint: \(fix) \(at)\n"), "\(out.stderrText)")
      }
      #expect(Gen.snapshot(remote) == before, "\(fault): the remote changed")
      #expect(undo() == 0)
    }

    let initArguments = ["--root-key", r.key("root"), "--targets-key", r.key("targets"), "--online-key", r.key("online")]
    let theirs = r.scratch.at("theirs")
    try Self.makeDirectory(theirs, mode: 0o755)
    chown(theirs, Self.nobody, Self.nobody)
    var out = try r.run(["publish", "init", theirs] + initArguments)
    #expect(out.status == 1)
    #expect(out.stderrText.hasPrefix("error: refusing remote directory \(theirs): \(theirs) is owned by nobody (uid 65534), not by root (mode 0755);"),
            "\(out.stderrText)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: theirs).isEmpty)

    let open = r.scratch.at("open")
    try Self.makeDirectory(open, mode: 0o777)
    out = try r.run(["publish", "init", open + "/new/remote"] + initArguments)
    #expect(out.status == 1)
    #expect(out.stderrText.hasPrefix(
      "error: refusing remote directory \(open)/new/remote: \(open) is writable by group and others (owner root, mode 0777, no sticky bit);"),
      "\(out.stderrText)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: open).isEmpty, "init created directories below an untrusted one")

    let sticky = r.scratch.at("sticky")
    try Self.makeDirectory(sticky, mode: 0o1777)
    try r.ok(["publish", "init", sticky + "/remote"] + initArguments)
    try r.ok(["publish", sticky + "/remote", "1.0", "--targets-key", r.key("targets"), "--online-key", r.key("online")])
  }

  @Test(
    "a symlink planted for metadata/, objects/ or a fan-out objects/xx/ in a trusted remote directory is refused by name; nothing is written outside the directory",
    .enabled(if: RemoteTrustTests.asRoot, "needs root"))
  func plantedSymlinks() throws {
    let r = try PubRemote()
    defer { r.remove() }
    let outside = r.scratch.at("outside")
    try Self.makeDirectory(outside, mode: 0o755)
    let initArguments = ["--root-key", r.key("root"), "--targets-key", r.key("targets"), "--online-key", r.key("online")]
    func refused(_ out: CLI.Output, _ remote: String, _ link: String) {
      #expect(out.status == 1, "\(out.stderrText)")
      #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
      #expect(out.stderrText.hasPrefix("error: refusing remote directory \(remote): \(link) is a symbolic link (owner root); a publish writes through no symlink"),
              "\(out.stderrText)")
      #expect(out.stderrText.hasSuffix("\nhint: rm \(link)\n"), "\(out.stderrText)")
      #expect(try! FileManager.default.contentsOfDirectory(atPath: outside).isEmpty, "something was written outside \(remote)")
    }

    // publish init into a directory where metadata is a symlink out of it.
    let planted = r.scratch.at("planted")
    try Self.makeDirectory(planted, mode: 0o755)
    symlink(outside, planted + "/metadata")
    refused(try r.run(["publish", "init", planted] + initArguments), planted, planted + "/metadata")

    // publish into a remote whose objects/ became a symlink.
    let remote = r.remote
    let rel1 = try r.release("rel1", version: "1.0", files: 3)
    try r.ok(["add", rel1])
    #expect(rename(remote + "/objects", r.scratch.at("objects.real")) == 0)
    symlink(outside, remote + "/objects")
    var before = Gen.snapshot(remote)
    refused(try r.run(r.publishArguments("1.0")), remote, remote + "/objects")
    #expect(Gen.snapshot(remote) == before)
    #expect(unlink(remote + "/objects") == 0 && rename(r.scratch.at("objects.real"), remote + "/objects") == 0)

    // A fan-out directory the release's first file needs, planted as a symlink.
    let fanOut = try Self.fanOut(of: rel1 + "/data/f0")
    symlink(outside, remote + "/objects/" + fanOut)
    before = Gen.snapshot(remote)
    refused(try r.run(r.publishArguments("1.0")), remote, remote + "/objects/" + fanOut)
    #expect(Gen.snapshot(remote) == before)
    #expect(unlink(remote + "/objects/" + fanOut) == 0)
    try r.ok(r.publishArguments("1.0"))
  }

  @Test(
    "a fan-out objects/xx/ that nobody owns, or that its group may write, is refused before an object is copied into it; no file is written",
    .enabled(if: RemoteTrustTests.asRoot, "needs root to chown"))
  func untrustedFanOut() throws {
    let r = try PubRemote()
    defer { r.remove() }
    let remote = r.remote
    let rel1 = try r.release("rel1", version: "1.0", files: 3)
    try r.ok(["add", rel1])
    let fanOut = remote + "/objects/" + (try Self.fanOut(of: rel1 + "/data/f0"))
    try Self.makeDirectory(fanOut, mode: 0o755)
    func files() -> [String] {
      (FileManager.default.subpaths(atPath: remote) ?? []).filter { path in
        var st = stat()
        return lstat(remote + "/" + path, &st) == 0 && st.st_mode & S_IFMT != S_IFDIR
      }.sorted()
    }
    for (make, undo, fault) in [
      ({ chown(fanOut, Self.nobody, Self.nobody) }, { chown(fanOut, 0, 0) }, "is owned by nobody (uid 65534), not by root (mode 0755)"),
      ({ chmod(fanOut, 0o775) }, { chmod(fanOut, 0o755) }, "is writable by its group (owner root, mode 0775, no sticky bit)"),
    ] as [(() -> Int32, () -> Int32, String)] {
      #expect(make() == 0)
      let before = files()
      let out = try r.run(r.publishArguments("1.0"))
      #expect(out.status == 1, "\(fault): \(out.stderrText)")
      #expect(Gen.isOneLineError(out.stderrText), "\(out.stderrText)")
      #expect(out.stderrText.hasPrefix("error: refusing remote directory \(remote): \(fanOut) \(fault); another user could swap its files for symlinks"),
              "\(out.stderrText)")
      #expect(files() == before, "\(fault): a file was written")
      #expect(undo() == 0)
    }
    try r.ok(r.publishArguments("1.0"))
  }
}
