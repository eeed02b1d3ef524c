import MCPGenSystem
import SystemPackage

extension Store {
  func generationsDirectory() throws(MCPGenError) -> DirectoryFD? {
    do {
      return try root.openDirectory(Store.generationsName)
    } catch let e where e.errno == .noSuchFileOrDirectory {
      return nil
    } catch {
      throw MCPGenError(error, doing: "open generations")
    }
  }

  /// Every generation link, by number. Names that are not generation numbers are skipped.
  public func generations() throws(MCPGenError) -> [Generation] {
    guard let dir = try generationsDirectory() else { return [] }
    var listed: [Int64] = []
    try attempt("list generations") { () throws(SystemCallError) in
      try dir.forEachName { name in
        if let n = Generation.number(name) { listed.append(n) }
      }
    }
    // Sorted before the links are read: the parts below are then in order as they come back.
    listed.sort()
    let numbers = listed
    // ext4 keeps a 73-byte link target in a block of its own, not in the inode: each readlink
    // reads that block from the cache. Thousands of them are split over every core.
    let ranges = ParallelWork.ranges(numbers.count, parts: numbers.count < 1024 ? 1 : ParallelWork.cores * 4)
    let found = ParallelWork.map(ranges) { range in
      Result { () throws(SystemCallError) -> [Generation] in
        var out: [Generation] = []
        out.reserveCapacity(range.count)
        for n in numbers[range] {
          let link = try Generation.withName(n) { name throws(SystemCallError) in
            try dir.readSymlinkIfPresent(name) { Generation(number: n, target: $0) }
          }
          if let link { out.append(link) }  // else removed meanwhile
        }
        return out
      }
    }
    var all: [Generation] = []
    all.reserveCapacity(numbers.count)
    for part in found {
      switch part {
      case .success(let generations): all += generations
      case .failure(let error): throw MCPGenError(error, doing: "read generation")
      }
    }
    return all
  }

  /// The number a new generation comes after: `recorded` (the highest the journal mentions), or
  /// above it the last of the names `generations/` already holds from `recorded + 1` on (a
  /// switch a crash stopped before its journal line left one). Probed name by name instead of
  /// listing 10,000 links: anything of that name, a damaged link too, counts, so no name is
  /// reused.
  func highestNumberTaken(above recorded: Int64) throws(MCPGenError) -> Int64 {
    guard let dir = try generationsDirectory() else { return recorded }
    var n = recorded
    while n < Generation.maximum {
      let taken = try attempt("list generations") { () throws(SystemCallError) in
        try dir.statIfPresent(Array(String(n + 1).utf8)) != nil
      }
      guard taken else { break }
      n += 1
    }
    return n
  }

  public func generation(_ number: Int64) throws(MCPGenError) -> Generation? {
    guard let dir = try generationsDirectory() else { return nil }
    let name = Array(String(number).utf8)
    do {
      guard let target = try dir.readSymlinkIfPresent(name) else { return nil }
      return Generation(number: number, target: target)
    } catch let e where e.errno == .invalidArgument {
      return Generation(number: number, target: [])  // Not a symlink: damaged.
    } catch {
      throw MCPGenError(error, doing: "read generation")
    }
  }

  /// Where `current` points.
  public func current() throws(MCPGenError) -> CurrentState {
    let target: [UInt8]?
    do {
      target = try root.readSymlinkIfPresent(CurrentState.name)
    } catch let e where e.errno == .invalidArgument {
      return .damaged([])
    } catch {
      throw MCPGenError(error, doing: "read current")
    }
    guard let target else { return .none }
    guard target.starts(with: CurrentState.prefix), let n = Generation.number(target.dropFirst(CurrentState.prefix.count))
    else { return .damaged(target) }
    return .generation(n)
  }

  /// Creates `generations/<n>` -> `../store/<key>` and makes the name durable.
  func createGeneration(_ n: Int64, _ key: StoreKey) throws(MCPGenError) {
    try attempt("create generation \(n)") { () throws(SystemCallError) in
      try root.ensureDirectory(Store.generationsName, mode: 0o755)
      let dir = try root.openDirectory(Store.generationsName)
      try dir.makeSymlink(Array(String(n).utf8), target: Generation.linkTarget(key))
      try dir.sync()
    }
  }

  /// Points `current` at `generations/<n>` atomically: a new symlink under a temporary name,
  /// `rename(2)` over `current`, fsync of the root. Readers see the old or the new target, never
  /// nothing. A crash before the rename leaves a stray `.tmp-` link that cleanup removes.
  func pointCurrent(at n: Int64) throws(MCPGenError) {
    let temp = Store.temporaryName()
    try attempt("switch current") { () throws(SystemCallError) in
      try root.makeSymlink(temp, target: CurrentState.linkTarget(n))
      do throws(SystemCallError) {
        try root.rename(temp, to: root, as: CurrentState.name)
      } catch {
        try? root.unlink(temp)
        throw error
      }
      try root.sync()
    }
  }

  /// Checks, after a switch, that `current` resolves to the very entry that was verified and,
  /// given what `requireIntact` hashed, that every file read through `current` is still that.
  func confirmCurrent(_ n: Int64, _ key: StoreKey, verified: VerifiedEntry? = nil) throws(MCPGenError) {
    let currentPath = root.path.appending(bytes: CurrentState.name)
    let resolved = try attempt("confirm current") { () throws(SystemCallError) in
      try withCString(CurrentState.name) { (p) throws(SystemCallError) in
        try Syscall.fstatat(root.fd, p, follow: true).get("stat", currentPath)
      }
    }
    let entry = try attempt("confirm current") { () throws(SystemCallError) in try entries.stat(key.bytes) }
    guard try current() == .generation(n), resolved.device == entry.device, resolved.inode == entry.inode else {
      throw MCPGenError(
        .integrity,
        "after switching, \(path.appending(bytes: CurrentState.name).displayString) does not resolve to \(key.short); run mcp-gen audit",
        hint: "mcp-gen audit")
    }
    if let verified { try requireUnchanged(verified, through: currentPath) }
  }

  /// The verified entry, which `current` was just seen to resolve to, is what was hashed: the
  /// same entries, and each file the same inode with the same size and change time. Any write,
  /// truncation, chmod or chattr of a file moves its change time, so this proves the hashed
  /// bytes are the ones served, without reading them again. Timestamps are coarse, though: a
  /// file changed within a second before the hashing began could change again unseen, so such
  /// an entry is re-hashed. The walk opens `store/<key>` without following links, like every
  /// other open in the root; the device and inode check before it ties it to `current`.
  func requireUnchanged(_ verified: VerifiedEntry, through currentPath: FilePath) throws(MCPGenError) {
    let now = try TreeScanner.scan(verified.key.bytes, in: entries)
    let before = verified.release
    var recent = false
    func changed(_ relative: [UInt8]) -> MCPGenError {
      MCPGenError(
        .integrity,
        "after switching, \(currentPath.appending(bytes: relative).displayString) is not what was verified a moment before (changed during the switch)",
        hint: "mcp-gen audit")
    }
    guard now.entries.count == before.entries.count else { throw changed(ManifestEntry.rootPath) }
    for i in before.entries.indices {
      let (was, isNow) = (before.entries[i], now.entries[i])
      guard was.path == isNow.path, was.kind == isNow.kind, was.size == isNow.size, was.target == isNow.target else {
        throw changed(isNow.path)
      }
      guard was.kind.isRegularFile else { continue }
      guard let a = before.identities[i], a == now.identities[i] else { throw changed(isNow.path) }
      if Int64(a.changeSeconds) >= verified.began - 1 { recent = true }
    }
    if recent { try requireIntact(verified.key, what: "release") }
  }
}
