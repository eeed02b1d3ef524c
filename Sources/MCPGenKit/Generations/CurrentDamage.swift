import MCPGenSystem

extension Store {
  /// What is wrong with `current`, or nil when it leads to a release in the store: it is not a
  /// symbolic link, points outside `generations/`, at a generation that does not exist, at a
  /// generation link that does not point into the store, or at a release missing from the store.
  /// (Whether the release's content is intact is for `verify` and `audit`.)
  public func currentDamage(_ state: CurrentState) throws(MCPGenError) -> String? {
    switch state {
    case .none:
      return nil
    case .damaged(let target):
      return target.isEmpty
        ? "current is not a symbolic link"
        : "current points at \(displayName(target)), not at a generation"
    case .generation(let n):
      guard let g = try generation(n) else {
        return "current points at generation \(n), which does not exist"
      }
      guard let key = g.key else {
        return "current points at generation \(n), whose link \(g.target.isEmpty ? "is not a symbolic link" : "points at \(displayName(g.target)), not into the store")"
      }
      guard try contains(key) else {
        return "current points at generation \(n), whose release \(key.short) is missing from the store"
      }
      return nil
    }
  }
}
