import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A small tmpfs mounted at test time, filled until `add` (and `switch`) run out of space: a
/// clean one-line error, no partial entry, temporaries removed, `current` still readable; once
/// space is freed the same command succeeds. Needs root to mount (CI runs as root and must run
/// it); without root the tests say why they are skipped.
@Suite("full disk", .serialized)
struct FullDiskTests {
  /// Mounts an 8 MiB tmpfs at `path`; nil (with a message) when that is not possible for a
  /// non-root user. As root a failed mount is a failure, not a skip.
  static func mountSmallFileSystem(_ path: String) throws -> Bool {
    try Rel.mkdir(Rel.bytes(path))
    guard geteuid() == 0, let mount = Rel.mountPath else {
      print("skipped: full-disk tests need root to mount a tmpfs (running as uid \(geteuid()))")
      return false
    }
    let out = try CLI.runProcess(mount, ["-t", "tmpfs", "-o", "size=8m,mode=0755", "tmpfs", path], environment: nil)
    if out.status != 0 {
      Issue.record("mounting a tmpfs failed although running as root: \(out.stderrText)")
      return false
    }
    return true
  }

  static func unmount(_ path: String) {
    guard let umount = Rel.umountPath else { return }
    let out = try? CLI.runProcess(umount, [path], environment: nil)
    if out?.status != 0 { _ = try? CLI.runProcess(umount, ["-l", path], environment: nil) }
  }

  static func freeBytes(_ path: String) -> Int {
    var st = statvfs()
    guard statvfs(path, &st) == 0 else { return 0 }
    return Int(st.f_bavail) * Int(st.f_frsize)
  }

  /// Fills the file system of `dir` until only `leave` bytes are free (0: completely).
  static func fill(_ dir: String, leaving leave: Int) throws -> String {
    let filler = dir + "/filler"
    let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw Rel.fail("create", Rel.bytes(filler)) }
    defer { close(fd) }
    let want = freeBytes(dir) - leave
    if want > 0 {
      let rc = posix_fallocate(fd, 0, off_t(want))
      if rc != 0 && rc != ENOSPC { throw E2EFailure("posix_fallocate: \(String(cString: strerror(rc)))") }
    }
    if leave == 0 {
      // Whatever is left (rounding, metadata): write until the file system says no.
      let chunk = [UInt8](repeating: 0x46, count: 4096)
      var end = lseek(fd, 0, SEEK_END)
      while chunk.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, end) }) > 0 { end += 4096 }
      for i in 0..<64 {
        let small = open(dir + "/filler-\(i)", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if small < 0 { break }
        _ = chunk.withUnsafeBytes { Glibc.write(small, $0.baseAddress, 1) }
        close(small)
      }
    }
    return filler
  }

  /// Reads through `current` the way a user of the release does.
  static func expectCurrentWorks(_ root: String, _ version: String, _ context: String) throws {
    #expect(Gen.read(root + "/current/share/mcp/VERSION") == version + "\n", "\(context): current/share/mcp/VERSION")
    let out = try CLI.runProcess(root + "/current/bin/mcp", ["--version"], environment: nil)
    #expect(out.status == 0 && out.stdoutText == version + "\n", "\(context): current/bin/mcp --version: \(out.stdoutText) \(out.stderrText)")
    let status = try CLI.run(["status", "--root", root])
    #expect(status.status == 0, "\(context): status: \(status.stderrText)")
  }

  @Test("add on a full tmpfs: one-line no-space error, no entry, no temporaries, current works; after freeing space it succeeds")
  func addRunsOutOfSpace() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let mountPoint = scratch.at("small")
    guard try Self.mountSmallFileSystem(mountPoint) else { return }
    defer { Self.unmount(mountPoint) }
    let root = mountPoint + "/root"
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])

    // A release of ~1 MB of real data, on the build disk.
    let release = scratch.at("release")
    try Gen.makeRelease(at: release, version: "big")
    for i in 0..<4 { try Rel.writeRandom(release + "/share/mcp/blob\(i)", count: 256 * 1024) }
    let key = try Gen.key(release)

    let filler = try Self.fill(mountPoint, leaving: 200 * 1024)
    let free = Self.freeBytes(mountPoint)
    #expect(free < 400 * 1024, "the file system was not filled: \(free) bytes free")
    let before = Gen.snapshot(root)

    let run = try Rel.run(["add", "--root", root, release], outputIn: scratch.path)
    print("full disk: add with \(free / 1024) KiB free: \(run)")
    #expect(run.endedCleanly, "\(run)")
    #expect(run.exitCode == 1, "\(run)")
    #expect(run.stdout.isEmpty, "\(run.stdoutText)")
    #expect(Gen.isOneLineError(run.stderrText), "\(run)")
    #expect(run.stderrText.contains("No space left on device"), "\(run)")
    #expect(Rel.lstat(Rel.bytes(root + "/store/" + key)) == nil, "a partial entry was left")
    #expect(Rel.leftovers(root).isEmpty, "left behind: \(Rel.leftovers(root))")
    #expect(Rel.listNames(root + "/manifests").map { String(decoding: $0, as: UTF8.self) } == [try Gen.key(CLI.fixture("mcp-1.0"))])
    #expect(Gen.snapshot(root) == before, "the failed add changed the root")
    try Self.expectCurrentWorks(root, "1.0", "after the failed add")
    try Rel.expectSoundRoot(root, outputIn: scratch.path, "after the failed add")

    // Space back: the same add succeeds.
    #expect(unlink(filler) == 0)
    let again = try Rel.run(["add", "--root", root, release], outputIn: scratch.path)
    #expect(again.exitCode == 0, "\(again)")
    #expect(Rel.addedKey(again) == key)
    #expect(again.stderr.isEmpty || again.stderrText.hasPrefix("note: "), "\(again)")
    try Rel.expectSoundRoot(root, outputIn: scratch.path, "after the retried add")
    try Self.expectCurrentWorks(root, "1.0", "after the retried add")
  }

  @Test("switch on a full tmpfs fails with one line and leaves current and the root as they were")
  func switchOnFullFileSystem() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let mountPoint = scratch.at("small")
    guard try Self.mountSmallFileSystem(mountPoint) else { return }
    defer { Self.unmount(mountPoint) }
    let root = mountPoint + "/root"
    try Gen.ok(root, "switch", [CLI.fixture("mcp-1.0")])
    let k11 = try Gen.add(root, CLI.fixture("mcp-1.1"))

    for leave in [200 * 1024, 0] {
      let filler = try Self.fill(mountPoint, leaving: leave)
      let free = Self.freeBytes(mountPoint)
      let before = Gen.snapshot(root)
      for target in [k11, CLI.fixture("mcp-1.1"), CLI.fixture("mcp-broken")] {
        let run = try Rel.run(["switch", "--root", root, target], outputIn: scratch.path)
        let context = "switch \(target.hasPrefix("/") ? (target as NSString).lastPathComponent : String(target.prefix(12))) with \(free) bytes free: \(run)"
        print("full disk: \(context)")
        #expect(run.endedCleanly, "\(context)")
        #expect(run.exitCode == 1, "\(context)")
        #expect(Gen.isOneLineError(run.stderrText), "\(context)")
        #expect(run.stderrText.contains("full") || run.stderrText.contains("No space left"), "\(context)")
        #expect(Gen.readlink(root + "/current") == "generations/1", "\(context): current moved")
        // `switch PATH` stores the release before it takes the lock and checks the free space: a
        // release small enough to fit may stay stored (complete; audit checks it below, gc
        // removes it), although the message says "nothing was changed". Nothing else may change.
        let stored = target.hasPrefix("/") ? try Gen.key(target) : nil
        let unrelated: (String) -> Bool = { line in stored.map { !line.hasPrefix("store/" + $0) && !line.hasPrefix("manifests/" + $0) } ?? true }
        let after = Gen.snapshot(root)
        #expect(after.filter(unrelated) == before.filter(unrelated), "\(context): the root changed")
        if after != before { print("full disk: note: the failed switch left \(stored ?? "?") stored (complete) although it says nothing was changed") }
        #expect(Rel.leftovers(root).isEmpty, "\(context): left behind \(Rel.leftovers(root))")
      }
      try Self.expectCurrentWorks(root, "1.0", "full file system (\(free) bytes free)")
      // Clean up this round's filler before the next.
      #expect(unlink(filler) == 0)
      for i in 0..<64 { unlink(mountPoint + "/filler-\(i)") }
    }
    try Rel.expectSoundRoot(root, outputIn: scratch.path, "after the failed switches")
    let ok = try Rel.run(["switch", "--root", root, k11], outputIn: scratch.path)
    #expect(ok.exitCode == 0, "once space is back: \(ok)")
    try Self.expectCurrentWorks(root, "1.1", "after the switch")
  }
}
