import MCPGenKit
import MCPGenSystem
import SystemPackage

/// `remote add`, `remote list`, `remote remove`: the remotes of a root (`<root>/remotes/`).
///
/// Every change runs under the root's lock, so a pull never sees a remote half-added or
/// half-removed, and a remote's directory appears or disappears by one rename.
public struct RemoteRegistry {
  public let store: Store

  public init(store: Store) { self.store = store }

  /// Adds remote `name` at `url`, trusting the root metadata read from `trust`.
  ///
  /// First `trust` must be trusted (`readTrustFile`). Order, under the lock: refuse a root or
  /// `remotes/` that another user may change (`RemoteTrust`); check the root metadata
  /// (`checkTrustedRoot`); make `remotes/` (durable);
  /// create `remotes/.tmp-<pid>-<hex>/` (0755); write `root.json` (the bytes given, byte for
  /// byte) and `remote.json`, each fsynced; fsync the temporary directory; rename it to
  /// `remotes/<name>` without replacing; fsync `remotes/`. A crash leaves no remote or the whole
  /// one, and at most a `remotes/.tmp-*` directory, which gc removes.
  @discardableResult
  public func add(_ name: RemoteName, url: RemoteURL, trust: FilePath) throws(MCPGenError) -> Remote {
    let root = try Self.readTrustFile(trust)
    let version = try checkTrustedRoot(root, file: trust)
    return try store.withLock { () throws(MCPGenError) -> Remote in
      try store.requireTrustedRemotes([], action: "add remote \(name)", outcome: "nothing was added")
      let remotes = try store.remotesDirectory(create: true)!
      if try attempting("read remotes", { () throws(SystemCallError) in try remotes.statIfPresent(name.bytes) }) != nil {
        throw MCPGenError(
          .conflict, "a remote named \(name) exists already; remove it first to change its URL or trusted root",
          hint: "mcp-gen remote remove \(name)", path: remotes.path.appending(bytes: name.bytes))
      }
      let temp = Store.temporaryName()
      do throws(MCPGenError) {
        let dir = try attempting("create remote \(name)") { () throws(SystemCallError) -> DirectoryFD in
          try remotes.makeDirectory(temp, mode: 0o700)
          let dir = try remotes.openDirectory(temp)
          try dir.changeMode(0o755)
          return dir
        }
        try DurableFile.write(root, as: Remote.rootName, in: dir)
        try DurableFile.write(Remote.configBytes(url), as: Remote.configName, in: dir)
        try attempting("create remote \(name)") { () throws(SystemCallError) in
          try dir.sync()
          try remotes.renameNoReplace(temp, to: remotes, as: name.bytes)
          try remotes.sync()
        }
      } catch {
        try? Store.removeTree(temp, in: remotes)
        throw error
      }
      return Remote(name: name, url: url, directory: remotes.path.appending(bytes: name.bytes), rootVersion: version)
    }
  }

  /// Every remote, by name; entries of `remotes/` that are not remote names are skipped. Refused
  /// when another user may change the root, `remotes/` or a remote's files (`RemoteTrust`): what
  /// would be listed is what a pull trusts.
  public func list() throws(MCPGenError) -> [Remote] {
    try store.requireTrustedRemotes(nil, action: "list remotes", outcome: "nothing was read")
    guard let remotes = try store.remotesDirectory(create: false) else { return [] }
    let names = try attempting("list remotes") { () throws(SystemCallError) in try remotes.list() }
      .compactMap { RemoteName(bytes: $0) }.sorted()
    var out: [Remote] = []
    for name in names {
      guard let dir = try? remotes.openDirectory(name.bytes) else { continue }
      out.append(try Remote.read(name, dir))
    }
    return out
  }

  /// The remote `name` and its open directory, for a pull; `.notFound` naming `remote list` when
  /// absent. Refused before anything of it is read when another user may change the root,
  /// `remotes/`, `remotes/<name>/` or a file in it (`RemoteTrust`): they could make root trust
  /// their keys.
  public func open(_ name: RemoteName) throws(MCPGenError) -> (Remote, DirectoryFD) {
    try store.requireTrustedRemotes([name.bytes], action: "pull from remote \(name)", outcome: "nothing was stored")
    return try openUnchecked(name)
  }

  /// `open` without the trust check, for `remove`: removing reads no trusted state, and is how
  /// an operator gets rid of a remote someone else tampered with.
  private func openUnchecked(_ name: RemoteName) throws(MCPGenError) -> (Remote, DirectoryFD) {
    guard let remotes = try store.remotesDirectory(create: false),
      let dir = try? remotes.openDirectory(name.bytes)
    else {
      throw MCPGenError(.notFound, "no remote named \(name); add it first", hint: "mcp-gen remote add \(name) URL --trust ROOT.json")
    }
    return (try Remote.read(name, dir), dir)
  }

  /// Removes remote `name`: its trusted metadata and any partial download. Releases pulled from
  /// it stay in the store. Under the lock: rename `remotes/<name>` to `remotes/.tmp-<pid>-<hex>`,
  /// fsync `remotes/`, then delete the renamed tree (a crash leaves it for gc).
  public func remove(_ name: RemoteName) throws(MCPGenError) -> Remote {
    try store.withLock { () throws(MCPGenError) -> Remote in
      let (remote, _) = try openUnchecked(name)
      let remotes = try store.remotesDirectory(create: false)!
      let temp = Store.temporaryName()
      try attempting("remove remote \(name)") { () throws(SystemCallError) in
        try remotes.rename(name.bytes, to: remotes, as: temp)
        try remotes.sync()
        try Store.removeTree(temp, in: remotes)
      }
      return remote
    }
  }

  /// The `--trust` file, read whole (at most the root metadata cap) through the descriptor the
  /// trust walk opened: it is the anchor of everything later pulled, so it and every directory
  /// above it must be trusted (`TrustedPath`, store-layout.md section 4a), or another user could
  /// have put their own root, with their keys, in its place.
  static func readTrustFile(_ path: FilePath) throws(MCPGenError) -> [UInt8] {
    do {
      let walked = try TrustedPath.openForReading(path)
      if let problem = walked.problems.first {
        throw problem.refusal(
          "trusted root \(path.displayString)", risk: { "put a root of their own keys there, which every later pull would trust as \($0)" },
          outcome: "nothing was added")
      }
      guard let file = walked.file else {
        throw MCPGenError(.invalidInput, "\(path.displayString) is not a regular file; give the remote's root metadata file", path: path)
      }
      guard walked.resolved.size <= Remote.rootLimit else {
        throw MCPGenError(.untrusted, "\(path.displayString) is larger than \(Remote.rootLimit) bytes, more than any root metadata; give the remote's root metadata file", path: path)
      }
      return try file.read(at: 0, count: Remote.rootLimit + 1)
    } catch let error as SystemCallError {
      throw MCPGenError(error, doing: "read the trusted root")
    } catch let error as MCPGenError {
      throw error
    } catch {
      throw MCPGenError(.io, "cannot read \(path.displayString): \(error)", path: path)
    }
  }
}
