import MCPGenKit
import MCPGenSystem
import SystemPackage

/// The local files of the tuf-conformance client-under-test (`mcp-gen-tuf-client`): its
/// `init` (the trusted root put in place) and its target directory. The trusted metadata itself
/// is only ever written by the `Updater`.
public enum ConformanceFiles {
  /// Stores the root at `trustedRoot` as `root.json` in `metadataDirectory` (made if missing),
  /// durably. No check, as the protocol says: the first refresh verifies it against itself.
  public static func initialize(metadataDirectory: FilePath, trustedRoot: FilePath) throws(MCPGenError) {
    let bytes = try readFile(trustedRoot)
    try ensureDirectory(metadataDirectory, "the metadata directory")
    try MetadataDirectory(path: metadataDirectory).write("root.json", bytes)
  }

  /// Makes `path` (its last component; the parent must exist) unless it is a directory already.
  static func ensureDirectory(_ path: FilePath, _ what: String) throws(MCPGenError) {
    guard let last = path.lastComponent else { return }
    do {
      try DirectoryFD.open(parent(of: path)).ensureDirectory(Array(last.string.utf8), mode: 0o755)
    } catch {
      throw MCPGenError(error, doing: "create \(what)")
    }
  }

  /// The whole of a local file named by the operator.
  public static func readFile(_ path: FilePath) throws(MCPGenError) -> [UInt8] {
    guard let name = path.lastComponent else {
      throw MCPGenError(.invalidInput, "\(path.displayString) names no file; give the path of a file")
    }
    do {
      return try DirectoryFD.open(parent(of: path)).openFile(Array(name.string.utf8), flags: [.readOnly, .nonBlocking]).readAll()
    } catch {
      throw MCPGenError(error, doing: "read")
    }
  }

  static func parent(of path: FilePath) -> FilePath {
    let parent = path.removingLastComponent()
    return parent.isEmpty ? FilePath(".") : parent
  }
}

/// Where the conformance client keeps downloaded targets: one file per target, named by its
/// percent-encoded target path (stable: the same target downloaded again replaces it), written
/// only after its length and hashes matched, temp + fsync + rename + fsync dir.
public struct TargetDirectory {
  let files: MetadataDirectory

  public init(path: FilePath) { files = MetadataDirectory(path: path) }

  public static func fileName(_ target: TrustedTarget) -> String { RoleFileName.encode(target.name) }

  /// Whether the directory already holds `target` with its signed length and hashes.
  public func holds(_ target: TrustedTarget) -> Bool {
    guard let bytes = try? files.read(TargetDirectory.fileName(target)) else { return false }
    return Updater.matches(bytes, target)
  }

  /// Writes `bytes` as `target` (the target directory is made if missing).
  public func store(_ bytes: [UInt8], for target: TrustedTarget) throws(MCPGenError) {
    try ConformanceFiles.ensureDirectory(files.path, "the target directory")
    try files.write(TargetDirectory.fileName(target), bytes)
  }
}
