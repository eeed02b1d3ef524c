import MCPGenSystem

/// What `audit --repair` (and `switch` healing an entry) set aside in `quarantine/`.
///
/// Quarantined copies are kept for a person to look at, never read again by mcp-gen and never
/// removed by `gc`: they take space until someone decides. A warning names them, how many and
/// since when, and how to remove them once looked at.
enum QuarantineCheck {
  static func run(_ root: DirectoryFD, now: Int64) -> DoctorFinding {
    let path = root.path.appending(bytes: Store.quarantineName)
    let directory: DirectoryFD
    do {
      directory = try root.openDirectory(Store.quarantineName)
    } catch let e where e.errno == .noSuchFileOrDirectory {
      return DoctorFinding("quarantine", .ok, "nothing quarantined")
    } catch {
      return DoctorFinding("quarantine", .warning, "cannot open \(path.displayString): \(error.errno.description)",
                           hint: "ls -la \(Doctor.shellWord(path))")
    }
    guard let names = try? directory.list() else {
      return DoctorFinding("quarantine", .warning, "cannot list \(path.displayString)", hint: "ls -la \(Doctor.shellWord(path))")
    }
    guard !names.isEmpty else { return DoctorFinding("quarantine", .ok, "nothing quarantined") }
    let sorted = names.sorted { $0.lexicographicallyPrecedes($1) }
    let newest = sorted.compactMap { try? directory.stat($0) }.map { Int64($0.modified.seconds) }.max()
    let since = newest.map { ", the newest set aside \(Doctor.age(now - $0)) ago" } ?? ""
    let listed = sorted.prefix(3).map(displayName).joined(separator: ", ") + (sorted.count > 3 ? ", and \(sorted.count - 3) more" : "")
    let word = Doctor.shellWord(path)
    // Repaired entries keep the immutable flag on their files: rm alone fails on them as root.
    // A file may be shared with an entry still stored (store-layout.md section 3), and an
    // immutable inode's names cannot be removed: clearing the quarantine's flags clears that
    // entry's too, so the store's flags are set again afterwards.
    let store = Doctor.shellWord(root.path.appending(bytes: Store.storeName))
    let unfreeze = Syscall.effectiveUserID() == 0 ? "chattr -R -i \(word) && " : ""
    let refreeze = Syscall.effectiveUserID() == 0 ? " && find \(store) -mindepth 1 ! -type l -exec chattr +i {} +" : ""
    return DoctorFinding("quarantine", .warning,
      "\(path.displayString) holds \(sorted.count) item\(sorted.count == 1 ? "" : "s") set aside as corrupted\(since): \(listed)",
      hint: "look at them (ls -la \(word)); once nothing there is needed: \(unfreeze)rm -rf \(word)\(refreeze)")
  }
}
