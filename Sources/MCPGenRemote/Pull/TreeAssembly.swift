import MCPGenKit
import MCPGenSystem
import Synchronization
import SystemPackage

/// Builds the release a manifest describes in `partial/tree`, for the engine's `addVerified`
/// to store where it is, in two steps. `start` makes the directories (0700 until the engine
/// seals them); each download is then renamed straight to its first use once it verified
/// (`ObjectDownload`). `build` makes the rest: symlinks with their targets, every other file
/// as a hard link to its content (0444, or 0555 with the manifest's execute bit: their stored
/// modes), which is that first use, an object in `objects/` (resumed or copied), or the stored
/// file of another release (`shared`: the same content with the same execute bit, checked by
/// the pull; store-layout.md section 3). Two files with the same content but different execute
/// bits cannot share an inode: the second is a copy. The engine checks every file's mode (and
/// sets any that differs) before it stores the tree.
///
/// Nothing is hashed here: every content was hashed against the signed manifest when it got
/// its name (downloaded, copied or resumed), and every shared stored file was judged when the
/// pull chose it (`Store.checkStoredFiles`: sealed by root, or hashed); the tree is made of
/// those inodes, in a directory only the pull's user can enter.
///
/// Every name comes from a manifest that passed `Manifest(parsing:)` (sorted, no `..`, no
/// empty or absolute component) and is created relative to its parent's descriptor, opened
/// without following symlinks, so a symlink of the release can never redirect a later entry.
enum TreeAssembly {
  /// Starts `partial/tree` (an earlier one removed first): for a directory release, its
  /// directories in manifest order (a parent sorts before its children), 0700 until the engine
  /// seals them, kept open; downloads are then renamed straight to their first use.
  static func start(_ manifest: Manifest, in partial: PartialDirectory) throws(MCPGenError) -> TreeDirectories {
    let tree = partial.dir.path.appending(bytes: PartialDirectory.treeName)
    return try attempting("assemble \(tree.displayString)") { () throws(SystemCallError) -> TreeDirectories in
      try Store.removeTree(PartialDirectory.treeName, in: partial.dir)
      guard manifest.entries[0].kind == .directory else { return TreeDirectories(partial: partial.dir) }
      try partial.dir.makeDirectory(PartialDirectory.treeName, mode: 0o700)
      let top = try partial.dir.openDirectory(PartialDirectory.treeName)
      var open: [[UInt8]: DirectoryFD] = [[]: top]
      let keep = Int(Syscall.raiseOpenFileLimit(to: 16_384) / 2)
      for e in manifest.entries.dropFirst() where e.kind == .directory {
        let (parentPath, name) = splitLast(e.path)
        let parent: DirectoryFD
        if let known = open[parentPath] { parent = known } else { parent = try top.openDirectory(parentPath) }
        try parent.makeDirectory(name, mode: 0o700)
        if open.count < keep { open[e.path] = try parent.openDirectory(name) }
      }
      return TreeDirectories(top: top, open: open)
    }
  }

  /// Completes the tree `start` began: every name the downloads did not put in place.
  /// `placed`: the contents downloaded straight to their first use (`ObjectDownload`), with
  /// that use's stored mode; their other uses link to it (or copy it, for the other execute
  /// bit). Every other content is in `objects/` or `shared`.
  static func build(
    _ manifest: Manifest, in partial: PartialDirectory, tree: TreeDirectories, placed: Set<Digest> = [], shared: [Digest: SharedFile] = [:],
    store: Store
  ) throws(MCPGenError) {
    let path = partial.dir.path.appending(bytes: PartialDirectory.treeName)
    try attempting("assemble \(path.displayString)") { () throws(SystemCallError) in
      let entries = manifest.entries
      // Which inode each file gets: per content, the first use's mode is the inode's; a use
      // with the other execute bit gets a copy. A shared stored file has the mode every use wants.
      var sources: [Digest: Source] = [:]
      var objectModes: [(Digest, UInt32)] = []
      for (i, e) in entries.enumerated() where e.kind.isRegularFile && e.size > 0 {
        guard let d = e.digest, shared[d] == nil, sources[d] == nil else { continue }
        let source = Source(firstUse: i, mode: UInt32(e.kind.storedMode), placed: placed.contains(d))
        sources[d] = source
        if !source.placed { objectModes.append((d, source.mode)) }
      }
      // The objects get their modes once, before any link (a link shares the inode). A
      // resumed or copied one may not have it yet.
      let objects = objectModes
      try onThreads(objects.count) { (k) throws(SystemCallError) in
        try partial.objects.changeModeIfDifferent(objects[k].0.hexBytes, to: objects[k].1)
      }
      let content = Contents(partial: partial, tree: tree, shared: shared, sources: sources, store: store, entries: entries)
      let root = entries[0]
      if root.kind != .directory {
        if let d = root.digest, root.size > 0, placed.contains(d) { return }  // Downloaded there.
        try content.place(0, as: PartialDirectory.treeName, in: partial.dir)
        return
      }
      // Files and symlinks, on as many threads as there are cores: each is a name in a
      // directory made by `start`. The uses of one shared stored file stay on one thread: its
      // immutable flag is cleared and set again around each link, and a second thread's link
      // between another's clear and set would find it set (EPERM).
      let threads = min(Syscall.onlineCores(), 8)
      var lanes = [[Int]](repeating: [], count: threads)
      for (k, i) in entries.indices.dropFirst().filter({ entries[$0].kind != .directory }).enumerated() {
        let e = entries[i]
        if e.kind.isRegularFile, e.size > 0, let s = sources[e.digest!], s.placed, s.firstUse == i { continue }  // Downloaded there.
        let lane = e.kind.isRegularFile && e.size > 0 && shared[e.digest!] != nil ? Int(e.digest!.hexBytes[63]) % threads : k % threads
        lanes[lane].append(i)
      }
      let items = lanes.flatMap { $0 }
      let starts = lanes.reduce(into: [0]) { $0.append($0.last! + $1.count) }
      try onLanes(starts) { (k) throws(SystemCallError) in
        let e = entries[items[k]]
        let (parent, name) = try tree.place(of: e.path)
        if e.kind == .symlink {
          try parent.makeSymlink(name, target: e.target)
        } else {
          try content.place(items[k], as: name, in: parent)
        }
      }
    }
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

  /// Where a content comes from: its first use in the manifest, whose stored mode its inode
  /// has, and whether the download put it there (else it is `objects/<digest>`).
  private struct Source: Sendable {
    var firstUse: Int
    var mode: UInt32
    var placed: Bool
  }

  /// What `build` places each file from.
  private struct Contents: Sendable {
    let partial: PartialDirectory
    let tree: TreeDirectories
    let shared: [Digest: SharedFile]
    let sources: [Digest: Source]
    let store: Store
    let entries: [ManifestEntry]

    func place(_ index: Int, as name: [UInt8], in parent: DirectoryFD) throws(SystemCallError) {
      let e = entries[index]
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
      let source = sources[digest]!
      let (from, fromName): (DirectoryFD, [UInt8])
      if source.placed {
        (from, fromName) = try tree.place(of: entries[source.firstUse].path)
      } else {
        (from, fromName) = (partial.objects, digest.hexBytes)
      }
      if source.mode == mode {
        try from.link(fromName, to: parent, as: name)
        return
      }
      // The content was verified when it got its name; the digest of the copy comes for free.
      let input = try from.openFile(fromName, flags: [.readOnly, .nonBlocking])
      let file = try parent.openFile(name, flags: [.writeOnly, .create, .exclusive], mode: 0o600)
      let copied = try StreamHasher().run(input, limit: e.size, into: file)
      guard !copied.overflow, copied.size == e.size, copied.digest == digest else {
        throw SystemCallError("read", path: from.path.appending(bytes: fromName), errno: .ioError)
      }
      try file.changeMode(mode)
    }
  }
}

/// The directories of a `partial/tree` being assembled, opened once by `TreeAssembly.start`
/// (up to half the descriptors the process may have; deeper ones are opened when needed).
final class TreeDirectories: Sendable {
  private let top: DirectoryFD?
  private let open: [[UInt8]: DirectoryFD]
  /// A single-file release: its file is `partial/tree` itself.
  private let partial: DirectoryFD?

  init(top: DirectoryFD, open: [[UInt8]: DirectoryFD]) {
    (self.top, self.open, partial) = (top, open, nil)
  }

  init(partial: DirectoryFD) {
    (top, open, self.partial) = (nil, [:], partial)
  }

  /// The directory that holds the manifest path `path`, and its name there.
  func place(of path: [UInt8]) throws(SystemCallError) -> (DirectoryFD, [UInt8]) {
    guard let top else { return (partial!, PartialDirectory.treeName) }
    let (parentPath, name) = splitLast(path)
    if let known = open[parentPath] { return (known, name) }
    return (try top.openDirectory(parentPath), name)
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
