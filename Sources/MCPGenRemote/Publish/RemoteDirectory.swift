import MCPGenKit
import MCPGenSystem
import SystemPackage

/// The remote on disk (store-layout.md section 14): `metadata/`, `targets/releases/`,
/// `objects/<2 hex>/<62 hex>` and `.publish.lock`, reached through descriptors opened once.
///
/// Every file is written under a temporary name (`.tmp-<pid>-<hex>`), synced, renamed into
/// place and its directory synced: a reader (a web server, a client) sees the old file or the
/// new one, never a part. Only `timestamp.json` is ever replaced; every other name is written
/// once (`renameat2(RENAME_NOREPLACE)`).
///
/// The directory and everything below it that a publish reads or writes must be trusted
/// (`RemoteDirectoryTrust`): publish runs as root, and another user who could change them could
/// redirect its writes or what it signs.
public final class RemoteDirectory: Sendable {
  public let path: FilePath
  let root: DirectoryFD
  let metadata: DirectoryFD
  let targets: DirectoryFD
  let releases: DirectoryFD
  let objects: DirectoryFD

  static let metadataName = Array("metadata".utf8)
  static let targetsName = Array("targets".utf8)
  static let releasesName = Array("releases".utf8)
  static let objectsName = Array("objects".utf8)
  static let lockName = Array(".publish.lock".utf8)
  static let timestampName = Array("timestamp.json".utf8)

  private init(path: FilePath, root: DirectoryFD) throws(MCPGenError) {
    self.path = path
    self.root = root
    let targets = try RemoteDirectory.openInside(root, RemoteDirectory.targetsName, remote: path)
    (metadata, self.targets, releases, objects) = (
      try RemoteDirectory.openInside(root, RemoteDirectory.metadataName, remote: path), targets,
      try RemoteDirectory.openInside(targets, RemoteDirectory.releasesName, remote: path),
      try RemoteDirectory.openInside(root, RemoteDirectory.objectsName, remote: path)
    )
  }

  /// A directory of the remote: no symlink (refused by name first, for a clear message; the
  /// open follows none either), and trusted as judged through the descriptor opened.
  private static func openInside(_ parent: DirectoryFD, _ name: [UInt8], remote: FilePath) throws(MCPGenError) -> DirectoryFD {
    try RemoteDirectoryTrust.refuseSymlink(name, in: parent, remote: remote)
    let (dir, st) = try publishStep("open the remote \(remote.displayString)") { () throws(SystemCallError) in
      let dir = try parent.openDirectory(name)
      return (dir, try dir.fstat())
    }
    try RemoteDirectoryTrust.requireInside(st, at: dir.path, remote: remote)
    return dir
  }

  /// Opens an existing remote; one without `metadata/1.root.json` is an error that says how to
  /// make one.
  public static func open(_ path: FilePath) throws(MCPGenError) -> RemoteDirectory {
    let root: DirectoryFD
    do {
      root = try DirectoryFD.open(path)
    } catch {
      throw MCPGenError(.notFound, "no remote at \(path.displayString) (\(error.errno.description)); create one with mcp-gen publish init", hint: "mcp-gen publish init DIR --root-key K --targets-key K --online-key K", path: path, cause: error)
    }
    try RemoteDirectoryTrust.require(root, path)
    let initialized = (try? root.statWithin(Array("metadata/1.root.json".utf8)).get()) != nil
    guard initialized else {
      throw MCPGenError(.notFound, "\(path.displayString) is not a remote (no metadata/1.root.json); create one with mcp-gen publish init", hint: "mcp-gen publish init DIR --root-key K --targets-key K --online-key K", path: path)
    }
    return try RemoteDirectory(path: path, root: root)
  }

  /// Makes the directory (like `mkdir -p`) and its layout, for `publish init`. Refuses a
  /// directory that holds a remote already (`metadata/timestamp.json`, which init writes last);
  /// what an init killed before that left is written over.
  ///
  /// What exists of the path must be trusted before anything is made, and the directory itself
  /// once opened (`RemoteDirectoryTrust`); a symlink where the layout has a directory is refused.
  public static func create(_ path: FilePath) throws(MCPGenError) -> RemoteDirectory {
    try RemoteDirectoryTrust.requireCreatable(path)
    try Store.makeDirectories(path, doing: "create the remote")
    let root = try publishStep("open the remote") { () throws(SystemCallError) in try DirectoryFD.open(path) }
    try RemoteDirectoryTrust.require(root, path)
    try refuseIfPublished(root, path)
    for name in [metadataName, targetsName, objectsName] { try RemoteDirectoryTrust.refuseSymlink(name, in: root, remote: path) }
    let targets = try publishStep("create the remote layout") { () throws(SystemCallError) in
      for name in [metadataName, targetsName, objectsName] { try root.ensureDirectory(name, mode: 0o755) }
      return try root.openDirectory(targetsName)
    }
    try RemoteDirectoryTrust.refuseSymlink(releasesName, in: targets, remote: path)
    try publishStep("create the remote layout") { () throws(SystemCallError) in
      try targets.ensureDirectory(releasesName, mode: 0o755)
      try targets.sync()
      try root.sync()
      // The remote directory itself is durable only once its parent is synced.
      let (parent, _) = splitLast(path.bytes)
      let up = parent.isEmpty ? (path.bytes.first == 0x2F ? [0x2F] : [0x2E]) : parent
      try DirectoryFD.open(FilePath(bytes: up)).sync()
    }
    return try RemoteDirectory(path: path, root: root)
  }

  /// `metadata/timestamp.json`, which init writes last, exists: the directory is a remote.
  static func refuseIfPublished(_ root: DirectoryFD, _ path: FilePath) throws(MCPGenError) {
    if (try? root.statWithin(Array("metadata/timestamp.json".utf8)).get()) != nil {
      throw MCPGenError(.conflict, "\(path.displayString) already holds a remote (metadata/timestamp.json exists); publish to it, or choose an empty directory", path: path)
    }
  }

  // MARK: Reading

  /// The bytes of `name` in `directory`, at most `limit`; nil when it does not exist. The file
  /// must be trusted (`RemoteDirectoryTrust`): a publish signs what it builds from it.
  func read(_ directory: DirectoryFD, _ name: [UInt8], limit: Int = 16 << 20) throws(MCPGenError) -> [UInt8]? {
    do {
      guard case .regular(let file) = try directory.openRegularFile(name, flags: OpenFlags.readOnly) else {
        throw MCPGenError(.integrity, "\(directory.path.appending(bytes: name).displayString) is not a regular file; move it away", path: directory.path.appending(bytes: name))
      }
      try RemoteDirectoryTrust.requireInside(try file.stat(), at: file.path, remote: path)
      let bytes = try file.readAll()
      guard bytes.count <= limit else {
        throw MCPGenError(.integrity, "\(file.path.displayString) is larger than \(limit) bytes; it cannot be metadata of this remote", path: file.path)
      }
      return bytes
    } catch let e as SystemCallError where e.errno == .noSuchFileOrDirectory {
      return nil
    } catch let e as SystemCallError {
      throw MCPGenError(e, doing: "read the remote")
    } catch let e as MCPGenError {
      throw e
    } catch {
      throw MCPGenError(.io, "cannot read the remote: \(error)")
    }
  }

  /// The versions N of the files `N.<role>.json` in `metadata/`.
  func versions(of role: String) throws(MCPGenError) -> [Int64] {
    let suffix = Array(".\(role).json".utf8)
    let names = try publishStep("list metadata/") { () throws(SystemCallError) in try metadata.list() }
    return names.compactMap { name -> Int64? in
      guard name.count > suffix.count, Array(name.suffix(suffix.count)) == suffix else { return nil }
      let digits = name.prefix(name.count - suffix.count)
      guard digits.first != 0x30, digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
      return Int64(String(decoding: digits, as: UTF8.self))
    }.sorted()
  }

  // MARK: Writing

  /// Writes `bytes` as `name` in `directory` (`TemporaryFile`: written and synced before it is
  /// linked or renamed in, then the directory synced).
  /// With `replace` false (every file but timestamp.json) an existing name is an error.
  func writeDurably(_ directory: DirectoryFD, _ name: [UInt8], _ bytes: [UInt8], replace: Bool, mode: UInt32 = 0o644) throws(MCPGenError) {
    do throws(SystemCallError) {
      try TemporaryFile.write(bytes, mode: mode, in: directory, as: name, replacing: replace) { Store.temporaryName() }
    } catch where error.errno == .fileExists {
      throw MCPGenError(.conflict, "\(directory.path.appending(bytes: name).displayString) exists already and is never replaced; another publisher wrote it, run the command again", path: directory.path.appending(bytes: name), cause: error)
    } catch {
      throw MCPGenError(error, doing: "write \(displayName(name))")
    }
  }
}
