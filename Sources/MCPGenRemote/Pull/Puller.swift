import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Makes the TUF client of a remote: the trusted-metadata directory is `remote.directory`,
/// metadata and targets come from `remote.url`, every byte through `fetcher`, and `now` is the
/// workflow's fixed start time (unix seconds).
public typealias TrustedSourceFactory =
  @Sendable (_ remote: Remote, _ fetcher: any RemoteFetcher, _ now: Int64) throws(MCPGenError) -> any TrustedTargetSource

/// `pull`: a release of a remote, verified end to end, stored with the engine's crash-safe add,
/// and with `--switch` made current.
///
/// All of it under the root's lock (a gc or another pull waits; the lock is taken once and the
/// engine's add and switch run inside it):
/// 1. refresh the trusted metadata (the TUF client workflow) and choose the release target;
/// 2. stored already (and current, with `--switch`): stop, `changed: false`;
/// 3. download the manifest target, checked against its signed length and hash, which is the
///    key; parse it (hostile paths and sizes refused);
/// 4. in `remotes/NAME/partial/`: keep objects an interrupted pull verified, copy files some
///    stored release has, download only the rest; every object hashed before it gets its name;
/// 5. assemble the tree and store it with `add`, which must find the signed key;
/// 6. with `--switch`, the switch with its health checks and automatic rollback;
/// 7. remove `partial/`.
///
/// A failure or kill before 5 stores nothing and leaves only verified objects in `partial/`
/// for the next pull; 5 is the engine's add (store-layout.md section 4), all or nothing.
public struct Puller {
  public let store: Store
  public let fetcher: any RemoteFetcher
  public let makeSource: TrustedSourceFactory
  public let now: Int64

  /// Downloads of this many bytes or more start their writeback before the tree is made.
  public var headStartBytes: UInt64 = 64 << 20

  static let cancelledMessage = "cancelled: nothing was stored (objects verified so far are kept for the next pull)"

  public init(store: Store, fetcher: any RemoteFetcher, makeSource: @escaping TrustedSourceFactory, now: Int64 = Clock.now()) {
    self.store = store
    self.fetcher = fetcher
    self.makeSource = makeSource
    self.now = now
  }

  public func pull(_ request: PullRequest) throws(MCPGenError) -> PullResult {
    try store.withLock { () throws(MCPGenError) -> PullResult in try pullLocked(request) }
  }

  private func pullLocked(_ request: PullRequest) throws(MCPGenError) -> PullResult {
    let (remote, directory) = try RemoteRegistry(store: store).open(request.remote)
    var source = try makeSource(remote, fetcher, now)
    try source.refresh()
    let release = try choose(&source, request.selector, remote: remote)
    var result = PullResult(
      remote: remote.name, channel: { if case .channel(let c) = request.selector { return c } else { return nil } }(),
      key: release.key, label: release.label, changed: false, switched: false)

    if try !store.contains(release.key) {
      try fetch(release, from: remote, source: source, directory: directory, into: &result)
      result.changed = true
    }
    if request.switchAfter {
      let current = try store.current().number.flatMap { (n) throws(MCPGenError) in try store.generation(n)?.key }
      if current != release.key {
        let outcome = try store.switchTo(.key(release.key.hex), config: request.config)
        result.switchOutcome = outcome
        result.switched = outcome.health.failure == nil && !outcome.alreadyCurrent
        result.changed = result.changed || result.switched
      } else {
        result.switched = false
      }
    }
    return result
  }

  /// The target the selector names; a full key not among the top-level targets is also looked
  /// up through delegations.
  private func choose(_ source: inout any TrustedTargetSource, _ selector: ReleaseSelector, remote: Remote) throws(MCPGenError) -> RemoteRelease {
    do {
      return try RemoteRelease.choose(source.topLevelTargets(), selector, remote: remote.name.text)
    } catch where error.code == .notFound {
      if case .release(let text) = selector, let key = StoreKey(text),
        let target = try source.target(named: RemoteRelease.prefix + key.hex), let release = RemoteRelease(target)
      {
        return release
      }
      throw error
    }
  }

  /// Steps 3 to 5 and 7: the release is stored when this returns.
  private func fetch(
    _ release: RemoteRelease, from remote: Remote, source: any TrustedTargetSource, directory: DirectoryFD,
    into result: inout PullResult
  ) throws(MCPGenError) {
    let manifest = try downloadManifest(release, source: source)
    let partial = try PartialDirectory(in: directory)
    let progress = store.options.progress

    var needed: [Digest: UInt64] = [:]
    var firstUse: [Digest: Int] = [:]
    for (i, e) in manifest.entries.enumerated() where e.kind.isRegularFile && e.size > 0 {
      guard let d = e.digest else { continue }
      if needed[d] == nil { firstUse[d] = i }
      needed[d] = e.size
    }
    // The same content named with two sizes cannot be: one of them would never verify.
    for e in manifest.entries where e.kind.isRegularFile && e.size > 0 && needed[e.digest!] != e.size {
      throw MCPGenError(.untrusted, "the manifest of release \(release.key.short) gives one content two sizes; nothing was stored, ask the remote's publisher")
    }

    let resumed = try phase("checking", needed.count, needed.values.reduce(0, +), progress) { () throws(MCPGenError) in
      try partial.verifiedObjects(needed: needed, progress: progress)
    }
    result.resumedObjects = resumed.count
    var missing = needed.filter { !resumed.contains($0.key) }

    // Files some stored release has are shared with it (hard links to the stored inode) when
    // every use wants the stored file's execute bit, else copied from it. A shared file is
    // checked first (sealed by root, or hashed), a copy hashed while copied; a stored file that
    // does not match is downloaded instead.
    var kinds: [Digest: Set<ManifestEntry.Kind>] = [:]
    for e in manifest.entries where e.kind.isRegularFile && e.size > 0 { kinds[e.digest!, default: []].insert(e.kind) }
    let local = try store.storedFiles(holding: missing)
    let sharable = local.filter { manifest.entries[0].kind == .directory && $0.path != [0x2E] && kinds[$0.digest] == [$0.kind] }
    let sharableBytes = sharable.reduce(UInt64(0)) { $0 + $1.size }
    var shared: [Digest: SharedFile] = [:]
    let directories = manifest.entries.lazy.filter { $0.kind == .directory }.count
    let budget = Puller.descriptorsForSharedFiles(directories: directories)
    // The descriptor table grown once for what checking the stored files holds (their
    // directories, at most one each, and the files kept open) and the tree's directories:
    // threads are running, and each step of growing it waits for the others. (Nothing to do
    // when the CLI grew it before it had threads: `prepareDescriptorTable`.)
    Syscall.growDescriptorTable(to: min(budget, 2 * sharable.count) + directories + 1_024)
    try phase("checking stored files", sharable.count, sharableBytes, progress) { () throws(MCPGenError) in
      for (digest, file) in try verifyStored(sharable, descriptors: budget, progress: progress) {
        shared[digest] = file
        result.copiedFiles += 1
        result.copiedBytes += missing[digest]!
        missing[digest] = nil
      }
    }
    let copies = local.filter { missing[$0.digest] != nil }  // Not shared.
    let localBytes = copies.reduce(UInt64(0)) { $0 + $1.size }
    try phase("copying", copies.count, localBytes, progress) { () throws(MCPGenError) in
      let hasher = StreamHasher()
      for source in copies {
        try Puller.checkCancelled()
        let size = source.size
        let copied = try attempting("copy a stored file") { () throws(SystemCallError) -> Bool in
          guard let file = try? store.openStoredFile(source.key, source.path) else { return false }
          return try partial.copyIn(from: file, source.digest, size: size, hasher: hasher, progress: progress)
        }
        progress?.add(files: 1)
        if copied {
          missing[source.digest] = nil
          result.copiedFiles += 1
          result.copiedBytes += size
        }
      }
    }

    // In manifest order, each content at its first use: a resumed pull then finds the earlier
    // files done. (Sorting by first use, a dictionary lookup per comparison, cost 12 ms.)
    var requests: [ObjectRequest] = []
    requests.reserveCapacity(missing.count)
    for (i, e) in manifest.entries.enumerated() where e.kind.isRegularFile && e.size > 0 {
      guard let d = e.digest, firstUse[d] == i, let size = missing[d] else { continue }
      requests.append(ObjectRequest(digest: d, size: size, mode: UInt32(e.kind.storedMode), path: e.path))
    }
    let downloadBytes = requests.reduce(UInt64(0)) { $0 + $1.size }
    try Puller.checkCancelled()
    // The tree's directories are made while curl starts (1,045 mkdirs took 20 ms before the
    // first request); the first verified download waits for them. Joined on every way out, so
    // nothing is left making directories behind an error.
    var tree: Background<TreeDirectories>? = Background { () throws(MCPGenError) in try TreeAssembly.start(manifest, in: partial) }
    defer { _ = try? tree?.value() }
    try phase("downloading", requests.count, downloadBytes, progress) { () throws(MCPGenError) in
      try ObjectDownload.run(requests, url: remote.url, fetcher: fetcher, into: partial, tree: tree!, progress: progress)
    }
    result.downloadedObjects = requests.count
    result.downloadedBytes = downloadBytes

    // The downloaded bytes start for the disk while the tree is made, so the store's syncfs
    // (which makes them durable) finds less left to write: a full pull of 342 MB spent about
    // 0.1 s less from its last download to its add. Not worth a thread for a few megabytes.
    let headStart = downloadBytes < headStartBytes ? nil : Background { () throws(MCPGenError) in _ = try? partial.dir.syncFileSystem() }
    defer { _ = try? headStart?.value() }
    try Puller.checkCancelled()
    try TreeAssembly.build(manifest, in: partial, tree: try tree!.value(), placed: Set(requests.map(\.digest)), shared: shared, store: store)
    let sharesStoredFiles = !shared.isEmpty
    // Their descriptors closed, and those of the tree's directories: the engine's add opens them.
    (shared, tree) = ([:], nil)
    // The tree links every object of objects/ (resumed or copied) now; as root the store marks
    // its files immutable, after which their names in objects/ could not be unlinked. Killed
    // from here on, the next pull takes the contents back from the tree
    // (PartialDirectory.salvageTree). Without root the names stay until partial/ is removed,
    // and the store moves the tree into store/ before sealing it.
    if Store.marksImmutable { try partial.dropObjects() }
    #if DEBUG
    FaultInjection.killPoint("pull-objects-dropped")
    #endif
    let label = release.label.flatMap { try? ReleaseLabel(given: $0) }
    let recorded = Array("remote \(remote.name) (\(remote.url.text))".utf8)
    result.added = try store.addVerified(
      PartialDirectory.treeName, in: partial.dir, manifest: manifest, key: release.key, recordedSource: recorded, label: label,
      sharesStoredFiles: sharesStoredFiles)
    partial.remove()
  }

  /// The stored files of `candidates` that still hold the bytes their manifests record
  /// (`Store.checkStoredFiles`: sealed by root, or hashed): a stored file is shared only as
  /// the bytes its manifest names. Others are left to be copied or downloaded. As many as
  /// `descriptors` allows (less the stored directories the check holds open) keep the
  /// descriptor they were judged through, for the tree to link (the inode checked, without a
  /// second walk of its path); the rest are opened again by path when linked.
  private func verifyStored(_ candidates: [StoredFile], descriptors: Int, progress: ProgressCounters?) throws(MCPGenError) -> [Digest: SharedFile] {
    guard !candidates.isEmpty else { return [:] }
    let taken: [Int: FileFD?]
    do {
      taken = try store.checkStoredFiles(candidates, descriptors: descriptors, progress: progress)
    } catch where error.code == .cancelled {
      throw MCPGenError(.cancelled, Puller.cancelledMessage)
    }
    var out: [Digest: SharedFile] = [:]
    for (i, file) in taken {
      let c = candidates[i]
      out[c.digest] = SharedFile(key: c.key, path: c.path, file: file)
    }
    return out
  }

  /// The manifest target, checked against its signed length and SHA-256 (which is the key) by
  /// the TUF client and once more here, then parsed and checked (`ManifestLimits`).
  private func downloadManifest(_ release: RemoteRelease, source: any TrustedTargetSource) throws(MCPGenError) -> Manifest {
    guard release.target.length >= 0, release.target.length <= ManifestLimits.maximumManifestBytes else {
      throw MCPGenError(.untrusted, "the manifest of release \(release.key.short) is signed as \(release.target.length) bytes, more than any manifest mcp-gen reads; nothing was stored")
    }
    let bytes = try source.download(release.target)
    guard bytes.count == release.target.length, SHA256.hash(bytes) == release.key.digest else {
      throw MCPGenError(
        .untrusted,
        "the manifest downloaded for release \(release.key.short) does not hash to its key; the remote or a mirror serves wrong content, nothing was stored")
    }
    let manifest: Manifest
    do {
      manifest = try Manifest(parsing: bytes)
    } catch {
      throw MCPGenError(.untrusted, "the manifest of release \(release.key.short) is malformed (\(error)); nothing was stored, ask the remote's publisher")
    }
    try ManifestLimits.check(manifest, release)
    return manifest
  }

  /// The open-file limit a pull raises its own to (as far as the hard limit allows).
  static let descriptorLimit = 65_536

  /// Raises the open-file limit and grows the descriptor table to it, for a process about to
  /// pull, while it has one thread (the CLI calls this first): with threads, each step of
  /// growing the table waits for an RCU grace period, and a pull that grew it once it had
  /// threads (curl's readers, the tree's) spent 10-24 ms there. Later growth finds it grown.
  public static func prepareDescriptorTable() {
    Syscall.growDescriptorTable(to: Int(Syscall.raiseOpenFileLimit(to: .init(descriptorLimit))))
  }

  /// How many descriptors checking the stored files may hold (their directories, and the
  /// verified files that stay open until the tree links them): the descriptors the process
  /// may have, less those the tree's directories and everything else need.
  static func descriptorsForSharedFiles(directories: Int) -> Int {
    let limit = Int(Syscall.raiseOpenFileLimit(to: .init(descriptorLimit)))
    return max(0, limit - min(directories, limit / 2) - 1_024)
  }

  /// Ctrl-C or SIGTERM (when the CLI installed the handlers) before anything is stored.
  static func checkCancelled() throws(MCPGenError) {
    if Cancellation.requested { throw MCPGenError(.cancelled, cancelledMessage) }
  }

  /// Runs `body` as a progress phase (the progress line shows files, bytes and rate).
  private func phase<R>(
    _ name: String, _ files: Int, _ bytes: UInt64, _ progress: ProgressCounters?, _ body: () throws(MCPGenError) -> R
  ) throws(MCPGenError) -> R {
    guard let progress, files > 0, progress.begin(name, files: files, bytes: bytes) else { return try body() }
    defer { progress.end() }
    return try body()
  }
}
