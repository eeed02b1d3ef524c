import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Puts a release's file contents into `objects/<2 hex>/<62 hex>`: only the objects the remote
/// lacks, each copied from the store entry while its SHA-256 is computed, and refused unless
/// that is the digest the manifest names. Copied, never hard-linked: as root every stored file is
/// immutable (`chattr +i`), and the kernel refuses a link to an immutable inode.
///
/// Durability in two steps, for a tree of 10,000 files without 10,000 fsyncs: every object is
/// written under a temporary name, one `syncfs` makes all of them durable, only then are they
/// renamed to their final names and a second `syncfs` makes the names durable. A crash can leave
/// temporaries, never an object name with content that is not yet on disk.
struct ObjectCopier {
  let remote: RemoteDirectory

  struct Outcome: Equatable {
    /// Distinct objects the release needs, and how many of them (and bytes) were new.
    var objects = 0
    var added = 0
    var addedBytes: UInt64 = 0
  }

  /// One object the remote lacks: where to copy it from, and its temporary name once copied.
  private struct Job: Sendable {
    var digest: Digest
    var size: UInt64
    var source: [UInt8]
  }

  func copy(_ manifest: Manifest, key: StoreKey, store: Store) throws(MCPGenError) -> Outcome {
    var seen: Set<Digest> = []
    var distinct: [Job] = []
    var outcome = Outcome()
    for entry in manifest.entries where entry.kind.isRegularFile {
      guard let digest = entry.digest, seen.insert(digest).inserted else { continue }
      distinct.append(Job(digest: digest, size: entry.size, source: entry.path))
    }
    outcome.objects = distinct.count
    guard !distinct.isEmpty else { return outcome }
    let fanOuts = try openFanOuts(Set(distinct.map { ObjectCopier.name($0.digest).0 }))
    // Objects are immutable: one of the right size is the one a publish wrote and synced.
    let jobs = distinct.filter { job in
      let (fanOut, name) = ObjectCopier.name(job.digest)
      guard let present = try? fanOuts[fanOut]!.statIfPresent(name) else { return true }
      return !(present.type == .regular && UInt64(present.size) == job.size)
    }
    let remote = self.remote
    guard !jobs.isEmpty else { return outcome }

    // The entry: a directory for a tree, the file itself for a single-file release.
    let storeDirectory = try publishStep("open the store") { () throws(SystemCallError) in
      try DirectoryFD.open(store.path.appending(bytes: Array("store".utf8)))
    }
    let single = manifest.isSingleFile
    let entry: DirectoryFD? = single ? nil : try publishStep("open release \(key.short)") { () throws(SystemCallError) in
      try storeDirectory.openDirectory(key.bytes)
    }

    let parts = ParallelWork.ranges(jobs.count, parts: min(jobs.count, max(1, ParallelWork.cores) * 4))
    let results: [Result<[(Int, [UInt8])], MCPGenError>] = ParallelWork.map(parts) { (range: Range<Int>) -> Result<[(Int, [UInt8])], MCPGenError> in
      var temps: [(Int, [UInt8])] = []
      let hasher = StreamHasher()
      for k in range {
        let target = fanOuts[ObjectCopier.name(jobs[k].digest).0]!
        switch ObjectCopier.copyOne(jobs[k], from: single ? storeDirectory : entry!, name: single ? key.bytes : jobs[k].source, into: target, hasher) {
        case .success(let temp): temps.append((k, temp))
        case .failure(let error):
          ObjectCopier.discard(temps, jobs, fanOuts)
          return .failure(error)
        }
      }
      return .success(temps)
    }
    var temps: [(Int, [UInt8])] = []
    var failure: MCPGenError? = nil
    for result in results {
      switch result {
      case .success(let t): temps += t
      case .failure(let e): failure = failure ?? e
      }
    }
    if let failure {
      // Remove what the other parts wrote: a failed publish leaves no temporaries behind.
      ObjectCopier.discard(temps, jobs, fanOuts)
      throw failure
    }
    try publishStep("sync the new objects") { () throws(SystemCallError) in try remote.objects.syncFileSystem() }
    try publishStep("name the new objects") { () throws(SystemCallError) in
      for (k, temp) in temps {
        let (fanOut, name) = ObjectCopier.name(jobs[k].digest)
        let dir = fanOuts[fanOut]!
        try dir.rename(temp, to: dir, as: name)
      }
      try remote.objects.syncFileSystem()
    }
    outcome.added = jobs.count
    outcome.addedBytes = jobs.reduce(0) { $0 + $1.size }
    return outcome
  }

  /// The fan-out directories `objects/<2 hex>/` named, each made if missing and opened once.
  /// They are written into as root: no symlink, and no one else's (section 4a). Every name is
  /// looked at before any directory is made, so a refusal makes nothing.
  private func openFanOuts(_ names: Set<[UInt8]>) throws(MCPGenError) -> [[UInt8]: DirectoryFD] {
    for dir in names { try RemoteDirectoryTrust.refuseSymlink(dir, in: remote.objects, remote: remote.path) }
    var opened: [[UInt8]: DirectoryFD] = [:]
    for dir in names {
      let (fanOut, st) = try publishStep("create objects/") { () throws(SystemCallError) in
        try remote.objects.ensureDirectory(dir, mode: 0o755)
        let fanOut = try remote.objects.openDirectory(dir)
        return (fanOut, try fanOut.fstat())
      }
      try RemoteDirectoryTrust.requireInside(st, at: fanOut.path, remote: remote.path)
      opened[dir] = fanOut
    }
    return opened
  }

  /// `objects/<first 2 hex>/<other 62 hex>`.
  static func name(_ digest: Digest) -> ([UInt8], [UInt8]) {
    let hex = digest.hexBytes
    return (Array(hex[0..<2]), Array(hex[2...]))
  }

  private static func discard(_ temps: [(Int, [UInt8])], _ jobs: [Job], _ fanOuts: [[UInt8]: DirectoryFD]) {
    for (k, temp) in temps { try? fanOuts[name(jobs[k].digest).0]?.unlink(temp) }
  }

  /// Copies one file into a temporary in `directory`, its fan-out, while hashing it (the
  /// engine's reader, `StreamHasher`); the temporary's name, or an error when the stored file
  /// is not what its manifest says.
  private static func copyOne(
    _ job: Job, from directory: DirectoryFD, name source: [UInt8], into target: DirectoryFD, _ hasher: StreamHasher
  ) -> Result<[UInt8], MCPGenError> {
    let temp = Store.temporaryName()
    do throws(SystemCallError) {
      let input = try directory.openFile(source, flags: OpenFlags.readOnly)
      let output = try target.openFile(temp, flags: [.writeOnly, .create, .exclusive], mode: 0o600)
      let copied = try hasher.run(input, limit: job.size, into: output)
      guard !copied.overflow, copied.size == job.size, copied.digest == job.digest else {
        try? target.unlink(temp)
        return .failure(MCPGenError(
          .integrity, "the stored file \(displayName(source)) does not match its manifest (SHA-256 or size); nothing was published, run mcp-gen audit",
          hint: "mcp-gen audit"))
      }
      try output.changeMode(0o444)
      return .success(temp)
    } catch {
      try? target.unlink(temp)
      return .failure(MCPGenError(error, doing: "copy \(displayName(source)) into objects/"))
    }
  }
}
