import MCPGenKit
import MCPGenSystem
import Synchronization
import SystemPackage

/// Builds the release a manifest describes in `partial/tree` from verified objects, for the
/// engine's `addVerified` to store where it is: directories (0700 until the engine seals them), symlinks with their
/// targets, files as hard links to their objects (0444, or 0555 with the manifest's execute
/// bit: their stored modes), or to the stored file of another release (`shared`: the same content with the same
/// execute bit, checked by the pull; store-layout.md section 3). Two files with the same
/// content but different execute bits cannot share an inode: the second is a copy. The engine
/// checks every file's mode (and sets any that differs) before it stores the tree.
///
/// Nothing is hashed here: every object was hashed against the signed manifest when it got
/// its name (downloaded, copied or resumed), and every shared stored file was judged when the
/// pull chose it (`Store.checkStoredFiles`: sealed by root, or hashed); the tree is made of
/// those inodes, in a directory only the pull's user can enter.
///
/// Every name comes from a manifest that passed `Manifest(parsing:)` (sorted, no `..`, no
/// empty or absolute component) and is created relative to its parent's descriptor, opened
/// without following symlinks, so a symlink of the release can never redirect a later entry.
/// An earlier tree (a pull killed after assembling) is removed first.
enum TreeAssembly {
  static func build(
    _ manifest: Manifest, in partial: PartialDirectory, shared: [Digest: SharedFile] = [:], store: Store
  ) throws(MCPGenError) -> FilePath {
    let tree = partial.dir.path.appending(bytes: PartialDirectory.treeName)
    try attempting("assemble \(tree.displayString)") { () throws(SystemCallError) in
      try Store.removeTree(PartialDirectory.treeName, in: partial.dir)
      let entries = manifest.entries
      // Which inode each file gets: per object, the first use's mode is the object's; a use
      // with the other execute bit gets a copy. A shared stored file has the mode every use wants.
      var objectModes: [Digest: UInt32] = [:]
      for e in entries where e.kind.isRegularFile && e.size > 0 {
        if let d = e.digest, shared[d] == nil, objectModes[d] == nil { objectModes[d] = UInt32(e.kind.storedMode) }
      }
      // The objects get their modes once, before any link (a link shares the inode). A
      // downloaded one has it already (ObjectDownload.verify); resumed and copied ones may not.
      let objects = Array(objectModes)
      let modes = objectModes
      try onThreads(objects.count) { (k) throws(SystemCallError) in
        try partial.objects.changeModeIfDifferent(objects[k].key.hexBytes, to: objects[k].value)
      }
      let root = entries[0]
      if root.kind != .directory {
        try place(root, as: PartialDirectory.treeName, in: partial.dir, partial, [:], store, modes)
        return
      }
      // Directories in manifest order (a parent sorts before its children), kept open; the
      // engine gives them their modes when it seals the tree.
      try partial.dir.makeDirectory(PartialDirectory.treeName, mode: 0o700)
      let top = try partial.dir.openDirectory(PartialDirectory.treeName)
      var open: [[UInt8]: DirectoryFD] = [[]: top]
      let keep = Int(Syscall.raiseOpenFileLimit(to: 16_384) / 2)
      for e in entries.dropFirst() where e.kind == .directory {
        let (parentPath, name) = splitLast(e.path)
        let parent: DirectoryFD
        if let known = open[parentPath] { parent = known } else { parent = try top.openDirectory(parentPath) }
        try parent.makeDirectory(name, mode: 0o700)
        if open.count < keep { open[e.path] = try parent.openDirectory(name) }
      }
      // Files and symlinks, on as many threads as there are cores: each is a name in a
      // directory made above. The uses of one shared stored file stay on one thread: its
      // immutable flag is cleared and set again around each link, and a second thread's link
      // between another's clear and set would find it set (EPERM).
      let threads = min(Syscall.onlineCores(), 8)
      var lanes = [[Int]](repeating: [], count: threads)
      for (k, i) in entries.indices.dropFirst().filter({ entries[$0].kind != .directory }).enumerated() {
        let e = entries[i]
        let lane = e.kind.isRegularFile && e.size > 0 && shared[e.digest!] != nil ? Int(e.digest!.hexBytes[63]) % threads : k % threads
        lanes[lane].append(i)
      }
      let parents = open
      let items = lanes.flatMap { $0 }
      let starts = lanes.reduce(into: [0]) { $0.append($0.last! + $1.count) }
      try onLanes(starts) { (k) throws(SystemCallError) in
        let e = entries[items[k]]
        let (parentPath, name) = splitLast(e.path)
        let parent: DirectoryFD
        if let known = parents[parentPath] { parent = known } else { parent = try top.openDirectory(parentPath) }
        if e.kind == .symlink {
          try parent.makeSymlink(name, target: e.target)
        } else {
          try place(e, as: name, in: parent, partial, shared, store, modes)
        }
      }
    }
    return tree
  }

  /// Runs `body(k)` for every `k` in `0..<count`, on up to as many threads as there are cores;
  /// the first error stops the others and is thrown. A cancel (Ctrl-C) stops them too.
  private static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) throws(SystemCallError) -> Void) throws(SystemCallError) {
    let threads = count < 64 ? 1 : min(Syscall.onlineCores(), 8)
    try onLanes((0...threads).map { $0 * count / threads }, body)
  }

  /// `body(k)` for every `k` in `starts[t]..<starts[t + 1]` on thread `t`, in order; the first
  /// error stops every thread and is thrown. A cancel (Ctrl-C) stops them too.
  private static func onLanes(_ starts: [Int], _ body: @escaping @Sendable (Int) throws(SystemCallError) -> Void) throws(SystemCallError) {
    guard let total = starts.last, total > 0 else { return }
    let failure = Mutex<SystemCallError?>(nil)
    runOnThreads(starts.count - 1) { t in
      for k in starts[t]..<starts[t + 1] {
        if Cancellation.requested || failure.withLock({ $0 != nil }) { return }
        do throws(SystemCallError) {
          try body(k)
        } catch {
          failure.withLock { if $0 == nil { $0 = error } }
          return
        }
      }
    }
    if let error = failure.withLock({ $0 }) { throw error }
  }

  private static func place(
    _ e: ManifestEntry, as name: [UInt8], in parent: DirectoryFD, _ partial: PartialDirectory, _ shared: [Digest: SharedFile],
    _ store: Store, _ objectModes: [Digest: UInt32]
  ) throws(SystemCallError) {
    // The stored modes already: the engine's mode pass then has nothing to change.
    let mode: UInt32 = UInt32(e.kind.storedMode)
    guard let digest = e.digest, e.size > 0 else {
      let file = try parent.openFile(name, flags: [.writeOnly, .create, .exclusive], mode: 0o600)
      try file.changeMode(mode)
      return
    }
    if let source = shared[digest] {
      // Every use has the stored file's execute bit (the pull shares nothing else).
      let file: FileFD
      if let open = source.file { file = open } else { file = try store.openStoredFile(source.key, source.path) }
      try store.linkStoredFile(file, source.key, source.path, to: parent, as: name)
      return
    }
    let object = digest.hexBytes
    if objectModes[digest] == mode {
      try partial.objects.link(object, to: parent, as: name)
      return
    }
    // The object was verified when it got its name; the digest of the copy comes for free.
    let source = try partial.objects.openFile(object, flags: [.readOnly, .nonBlocking])
    let file = try parent.openFile(name, flags: [.writeOnly, .create, .exclusive], mode: 0o600)
    let copied = try StreamHasher().run(source, limit: e.size, into: file)
    guard !copied.overflow, copied.size == e.size, copied.digest == digest else {
      throw SystemCallError("read", path: partial.objects.path.appending(bytes: object), errno: .ioError)
    }
    try file.changeMode(mode)
  }
}

/// A stored file a pull shares with the release it assembles: `path` of the entry `key`, its
/// bytes hashed to the wanted digest and its execute bit the one every use wants.
struct SharedFile: Sendable {
  var key: StoreKey
  var path: [UInt8]
  /// The descriptor its bytes were hashed through, when the pull could keep it open.
  var file: FileFD?
}
