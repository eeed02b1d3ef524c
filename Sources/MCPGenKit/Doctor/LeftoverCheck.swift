import MCPGenSystem

/// Leftovers of crashed runs that `gc` removes: temporary copies in `store/` whose `add` is gone,
/// temporary manifests, stray temporary links in the root, half-deleted entries in `garbage/`,
/// and the `partial/` of a pull that died (`remoteLeftovers`).
///
/// A temporary copy whose `add` is still running is no leftover (`isLive`, as `gc` and `audit`
/// decide it).
enum LeftoverCheck {
  static func run(_ store: Store) -> DoctorFinding {
    var found: [String] = []
    var inProgress = 0
    let storeNames = (try? store.entries.list()) ?? []
    for name in storeNames where name.starts(with: Store.tempPrefix) {
      if (try? store.isLive(name, in: store.entries)) ?? false {
        inProgress += 1
      } else {
        found.append("store/" + displayName(name))
      }
    }
    for name in (try? store.manifests.list()) ?? [] where name.starts(with: Store.tempPrefix) {
      found.append("manifests/" + displayName(name))
    }
    for name in (try? store.root.list()) ?? [] where name.starts(with: Store.tempPrefix) {
      found.append(displayName(name))
    }
    if let garbage = try? store.root.openDirectory(Store.garbageName), let left = try? garbage.list(), !left.isEmpty {
      found.append("garbage/ (\(left.count) half-deleted entr\(left.count == 1 ? "y" : "ies"))")
    }
    // A pull that died: its partial/ (running the pull again continues it; gc removes it).
    found += ((try? store.remoteLeftovers(remove: false)) ?? []).map { displayName($0) }
    let running = inProgress == 0 ? "" : "; \(inProgress) add\(inProgress == 1 ? "" : "s") in progress"
    guard !found.isEmpty else {
      return DoctorFinding("leftovers", .ok, "no leftovers of crashed runs\(running)")
    }
    let listed = found.prefix(3).joined(separator: ", ") + (found.count > 3 ? ", and \(found.count - 3) more" : "")
    return DoctorFinding("leftovers", .warning,
      "\(found.count) leftover\(found.count == 1 ? "" : "s") of crashed runs: \(listed)\(running)", hint: "mcp-gen gc")
  }
}
