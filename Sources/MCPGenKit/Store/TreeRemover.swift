import MCPGenSystem
import SystemPackage

/// Deletes a tree that mcp-gen made read-only (and maybe immutable) itself.
///
/// Only ever used on names that are already out of `store/` (temporary copies, garbage), so a
/// crash half-way leaves garbage for the next run, never a half-deleted entry. A regular file
/// whose inode another entry shares keeps its immutable flag (`Immutability.whileCleared`).
enum TreeRemover {
  /// Removes `name` and everything below it, counting each regular file in `progress`. With
  /// `storeInodes` (garbage of gc, leftovers in `store/`), a file that still has a name after
  /// its unlink is another entry's and is marked immutable whether or not it was (a gc killed
  /// between clearing and setting a flag left it without); otherwise a flag comes back only
  /// where it was.
  static func remove(
    _ name: [UInt8], in parent: DirectoryFD, progress: ProgressCounters? = nil, storeInodes: Bool = false
  ) throws(SystemCallError) {
    guard let st = try parent.statIfPresent(name) else { return }
    switch st.type {
    case .directory:
      let dir = try parent.openDirectory(name)
      Immutability.clear(dir.fd)
      try dir.changeMode(0o700)
      for child in try dir.list() { try remove(child, in: dir, progress: progress, storeInodes: storeInodes) }
      try parent.unlink(name, directory: true)
    case .regular:
      // A file may be shared with a store entry that stays (section 3): its flag comes back
      // when it still has a name after the unlink.
      if Syscall.effectiveUserID() == 0, let file = try? parent.openFile(name, flags: [.readOnly, .nonBlocking]) {
        try Immutability.whileCleared(file.fd, always: storeInodes) { () throws(SystemCallError) in try parent.unlink(name) }
      } else {
        try parent.unlink(name)
      }
      progress?.add(bytes: UInt64(st.size))
      progress?.add(files: 1)
    default:
      try parent.unlink(name)
    }
  }
}
