import MCPGenKit
import MCPGenSystem
import SystemPackage

/// The trusted metadata directory (`remotes/NAME/` for pull, `--metadata-dir` for the
/// conformance client): `root.json`, `timestamp.json`, `snapshot.json`, `targets.json` and
/// `<percent-encoded role>.json`, each byte for byte as served.
///
/// Every write is temp file, fsync, rename, fsync of the directory, and happens only after the
/// bytes passed every check: a crash leaves the old trusted copy or the new one, plus at most a
/// `.tmp-` file that the next write of that directory does not read.
struct MetadataDirectory {
  let path: FilePath

  init(path: FilePath) { self.path = path }

  func open() throws(MCPGenError) -> DirectoryFD {
    do {
      return try DirectoryFD.open(path)
    } catch {
      throw MCPGenError(
        error.errno == .noSuchFileOrDirectory ? .notFound : .io,
        "cannot open the trusted metadata directory \(path.displayString): \(error.errno.description); initialize it with a trusted root.json first",
        path: path, cause: error)
    }
  }

  /// The trusted copy of `name`, nil when there is none.
  func read(_ name: String) throws(MCPGenError) -> [UInt8]? {
    let dir = try open()
    do {
      let file = try dir.openFile(Array(name.utf8), flags: [.readOnly, .nonBlocking])
      return try file.readAll()
    } catch {
      if error.errno == .noSuchFileOrDirectory { return nil }
      throw MCPGenError(error, doing: "read trusted metadata")
    }
  }

  /// Replaces `name` with `bytes`, durably and atomically.
  func write(_ name: String, _ bytes: [UInt8]) throws(MCPGenError) {
    let dir = try open()
    do throws(SystemCallError) {
      // 0644 whatever the umask: anyone may read public metadata.
      try TemporaryFile.write(bytes, mode: 0o644, in: dir, as: Array(name.utf8), replacing: true) { Store.temporaryName() }
    } catch {
      throw MCPGenError(error, doing: "write trusted metadata \(name)")
    }
  }

  /// Removes `name` durably; absent is fine (fast-forward recovery, section 5.3.11).
  func remove(_ name: String) throws(MCPGenError) {
    let dir = try open()
    do throws(SystemCallError) {
      do {
        try dir.unlink(Array(name.utf8))
      } catch let e where e.errno == .noSuchFileOrDirectory {
        return
      }
      try dir.sync()
    } catch {
      throw MCPGenError(error, doing: "remove trusted metadata \(name)")
    }
  }
}
