import MCPGenSystem
import SystemPackage

extension Store {
  /// `remotes/NAME/partial/` of pulls that are no longer running, and `remotes/.tmp-*` of a
  /// `remote add` or `remote remove` that died, as paths relative to the root; removed too when
  /// `remove`.
  ///
  /// A pull holds the root's lock for its whole run, so a gc (which holds it too) never runs
  /// beside one; the pull also holds `flock` on its `partial/` directory, which is what tells a
  /// live one apart for `gc --dry-run` (which takes no lock). Removing a dead pull's partial/
  /// costs only a re-download: its objects were never trusted for more than that pull.
  func remoteLeftovers(remove: Bool) throws(SystemCallError) -> [[UInt8]] {
    guard let remotes = try? root.openDirectory(Store.remotesName) else { return [] }
    var found: [[UInt8]] = []
    for name in try remotes.list() {
      let shown = Store.remotesName + [0x2F] + name
      if name.starts(with: Store.tempPrefix) {
        guard try !isLive(name, in: remotes) else { continue }
        if remove { try TreeRemover.remove(name, in: remotes) }
        found.append(shown)
        continue
      }
      guard let st = try remotes.statIfPresent(name), st.type == .directory,
        let remote = try? remotes.openDirectory(name),
        let partial = try remote.statIfPresent(Store.partialName), partial.type == .directory
      else { continue }
      guard try !isLive(Store.partialName, in: remote) else { continue }
      if remove {
        try TreeRemover.remove(Store.partialName, in: remote)
        try remote.sync()
      }
      found.append(shown + [0x2F] + Store.partialName)
    }
    return found
  }
}
