import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Builds the release a manifest describes in `partial/tree` from verified objects, for the
/// engine's `addVerified` to store where it is: directories (0755), symlinks with their
/// targets, files as hard links to their objects (0444, or 0555 with the manifest's execute
/// bit: their stored modes), or to the stored file of another release (`shared`: the same content with the same
/// execute bit, checked by the pull; store-layout.md section 3). Two files with the same
/// content but different execute bits cannot share an inode: the second is a copy. The engine
/// checks every file's mode (and sets any that differs) before it stores the tree.
///
/// Nothing is hashed here: every object was hashed against the signed manifest when it got
/// its name (downloaded, copied or resumed), and every shared stored file when the pull chose
/// it; the tree is made of those inodes, in a directory only the pull's user can enter.
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
      var modes: [Digest: UInt32] = [:]
      let root = manifest.entries[0]
      if root.kind != .directory {
        try place(root, as: PartialDirectory.treeName, in: partial.dir, partial, [:], store, &modes)
        return
      }
      try partial.dir.makeDirectory(PartialDirectory.treeName, mode: 0o700)
      let top = try partial.dir.openDirectory(PartialDirectory.treeName)
      try top.changeMode(0o755)
      var open: [[UInt8]: DirectoryFD] = [[]: top]
      for e in manifest.entries.dropFirst() {
        let (parentPath, name) = splitLast(e.path)
        let parent: DirectoryFD
        if let d = open[parentPath] {
          parent = d
        } else {
          parent = try top.openDirectory(parentPath)
        }
        switch e.kind {
        case .directory:
          try parent.makeDirectory(name, mode: 0o700)
          let d = try parent.openDirectory(name)
          try d.changeMode(0o755)
          if open.count < 512 { open[e.path] = d }
        case .symlink:
          try parent.makeSymlink(name, target: e.target)
        case .file, .executable:
          try place(e, as: name, in: parent, partial, shared, store, &modes)
        }
      }
    }
    return tree
  }

  private static func place(
    _ e: ManifestEntry, as name: [UInt8], in parent: DirectoryFD, _ partial: PartialDirectory, _ shared: [Digest: SharedFile],
    _ store: Store, _ modes: inout [Digest: UInt32]
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
      try store.linkStoredFile(source.key, source.path, to: parent, as: name)
      return
    }
    let object = digest.hexBytes
    switch modes[digest] {
    case nil:
      try partial.objects.openFile(object, flags: [.readOnly, .nonBlocking]).changeMode(mode)
      try partial.objects.link(object, to: parent, as: name)
      modes[digest] = mode
    case mode?:
      try partial.objects.link(object, to: parent, as: name)
    default:
      let source = try partial.objects.openFile(object, flags: [.readOnly, .nonBlocking])
      let file = try parent.openFile(name, flags: [.writeOnly, .create, .exclusive], mode: 0o600)
      // The object was verified when it got its name; the digest of the copy comes for free.
      let copied = try StreamCopy.run(from: source, into: file, limit: e.size, progress: nil)
      guard !copied.overflow, copied.size == e.size, copied.digest == digest else {
        throw SystemCallError("read", path: partial.objects.path.appending(bytes: object), errno: .ioError)
      }
      try file.changeMode(mode)
    }
  }
}

/// A stored file a pull shares with the release it assembles: `path` of the entry `key`, its
/// bytes hashed to the wanted digest and its execute bit the one every use wants.
struct SharedFile: Sendable {
  var key: StoreKey
  var path: [UInt8]
}
