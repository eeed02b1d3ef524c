import MCPGenSystem
import SystemPackage

/// Pins (`<root>/pins/<N>`: gc never collects generation N) and blocks (`<root>/blocked/<key>`:
/// nothing switches to that release without `--force`). Each mark is an empty file whose name is
/// the generation or key; creating or removing one is fsynced and journaled.
extension Store {
  static let pinsName = Array("pins".utf8)
  static let blockedName = Array("blocked".utf8)

  public func pinned() throws(MCPGenError) -> Set<Int64> {
    Set(try markNames(Store.pinsName).compactMap { Generation.number($0) })
  }

  public func blocked() throws(MCPGenError) -> Set<StoreKey> {
    Set(try markNames(Store.blockedName).compactMap { StoreKey(bytes: $0) })
  }

  /// Pins generation `n`; returns false when it already was pinned.
  public func pin(_ n: Int64, _ on: Bool) throws(MCPGenError) -> Bool {
    try withLock { () throws(MCPGenError) in
      if on {
        guard try generation(n) != nil else {
          throw MCPGenError(.notFound, "there is no generation \(n) to pin", hint: "mcp-gen list")
        }
      }
      guard try setMark(Store.pinsName, Array(String(n).utf8), on) else { return false }
      try journal(on ? .pin : .unpin, from: nil, to: n, key: try generation(n)?.key, source: nil)
      return true
    }
  }

  /// Blocks or unblocks a release; returns false when nothing changed.
  public func block(_ key: StoreKey, _ on: Bool) throws(MCPGenError) -> Bool {
    try withLock { () throws(MCPGenError) in
      guard try setMark(Store.blockedName, key.bytes, on) else { return false }
      try journal(on ? .block : .unblock, from: nil, to: nil, key: key, source: nil)
      return true
    }
  }

  /// Refuses a blocked release unless forced.
  func requireNotBlocked(_ key: StoreKey, force: Bool) throws(MCPGenError) {
    guard !force, try blocked().contains(key) else { return }
    throw MCPGenError(
      .conflict,
      "release \(key.short) is blocked as known bad; nothing was changed (pass --force to switch to it anyway)",
      hint: "mcp-gen unblock \(key.short)")
  }

  private func markNames(_ dir: [UInt8]) throws(MCPGenError) -> [[UInt8]] {
    do {
      return try root.openDirectory(dir).list()
    } catch let e where e.errno == .noSuchFileOrDirectory {
      return []
    } catch {
      throw MCPGenError(error, doing: "read marks")
    }
  }

  private func setMark(_ dirName: [UInt8], _ name: [UInt8], _ on: Bool) throws(MCPGenError) -> Bool {
    try attempt("update marks") { () throws(SystemCallError) in
      try root.ensureDirectory(dirName, mode: 0o755)
      let dir = try root.openDirectory(dirName)
      let present = try dir.statIfPresent(name) != nil
      if present == on { return false }
      if on {
        try dir.openFile(name, flags: [.writeOnly, .create, .exclusive], mode: 0o644).changeMode(0o644)  // whatever the umask
      } else {
        try dir.unlink(name)
      }
      try dir.sync()
      return true
    }
  }
}
