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
  /// Order, under the lock: check the root (`checkTrustedRoot`); make `remotes/` (durable);
  /// create `remotes/.tmp-<pid>-<hex>/` (0755); write `root.json` (the bytes given, byte for
  /// byte) and `remote.json`, each fsynced; fsync the temporary directory; rename it to
  /// `remotes/<name>` without replacing; fsync `remotes/`. A crash leaves no remote or the whole
  /// one, and at most a `remotes/.tmp-*` directory, which gc removes.
  @discardableResult
  public func add(_ name: RemoteName, url: RemoteURL, trust: FilePath) throws(MCPGenError) -> Remote {
    let root = try Self.readTrustFile(trust)
    let version = try checkTrustedRoot(root, file: trust)
    return try store.withLock { () throws(MCPGenError) -> Remote in
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

  /// Every remote, by name; entries of `remotes/` that are not remote names are skipped.
  public func list() throws(MCPGenError) -> [Remote] {
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

  /// The remote `name` and its open directory; `.notFound` naming `remote list` when absent.
  public func open(_ name: RemoteName) throws(MCPGenError) -> (Remote, DirectoryFD) {
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
      let (remote, _) = try open(name)
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

  /// The `--trust` file, read whole (at most the root metadata cap).
  static func readTrustFile(_ path: FilePath) throws(MCPGenError) -> [UInt8] {
    do {
      let fd = try withCString(path.bytes) { (p) throws(SystemCallError) in
        try Syscall.openat(Syscall.currentDirectoryFD, p, [.readOnly, .closeOnExec, .nonBlocking])
          .get("open", path)
      }
      let file = FileFD(fd: fd, path: path)
      let st = try file.stat()
      guard st.type == .regular else {
        throw MCPGenError(.invalidInput, "\(path.displayString) is not a regular file; give the remote's root metadata file", path: path)
      }
      guard st.size <= Remote.rootLimit else {
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
