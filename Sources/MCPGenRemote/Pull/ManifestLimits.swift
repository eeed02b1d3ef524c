import MCPGenKit

/// Checks of a downloaded manifest beyond its grammar (`Manifest(parsing:)` already refuses an
/// unsorted, duplicated, absolute, `..`, empty-component or NUL-containing path, and a symlink
/// or directory record with a digest). The manifest was verified against its signed key, so
/// these guard against a publisher's tool gone wrong, not a mirror: what must never happen is a
/// pull that allocates or writes without bound because a number said so.
enum ManifestLimits {
  static let maximumEntries = 10_000_000
  static let maximumFileSize: UInt64 = 1 << 40
  static let maximumTotalSize: UInt64 = 1 << 44
  /// PATH_MAX and NAME_MAX: the tree is made on this machine's file system.
  static let maximumPathBytes = 4096
  static let maximumNameBytes = 255
  /// A manifest target larger than this is refused before it is downloaded.
  static let maximumManifestBytes = 1 << 30

  static func check(_ manifest: Manifest, _ release: RemoteRelease) throws(MCPGenError) {
    func refuse(_ why: String) -> MCPGenError {
      MCPGenError(
        .untrusted,
        "the manifest of release \(release.key.short) is not usable (\(why)); nothing was stored, ask the remote's publisher")
    }
    guard manifest.entries.count <= maximumEntries else { throw refuse("more than \(maximumEntries) entries") }
    var total: UInt64 = 0
    for e in manifest.entries {
      guard e.path.count <= maximumPathBytes else { throw refuse("a path longer than \(maximumPathBytes) bytes") }
      for component in e.path.split(separator: 0x2F) where component.count > maximumNameBytes {
        throw refuse("a name longer than \(maximumNameBytes) bytes")
      }
      guard !e.path.contains(0) && !e.target.contains(0) else { throw refuse("a NUL byte in a name") }
      switch e.kind {
      case .file, .executable:
        guard e.size <= maximumFileSize else { throw refuse("a file of more than 1 TiB") }
        total += e.size
        guard total <= maximumTotalSize else { throw refuse("more than 16 TiB of files") }
      case .symlink:
        guard e.target.count <= maximumPathBytes else { throw refuse("a symlink target longer than \(maximumPathBytes) bytes") }
      case .directory:
        break
      }
    }
    if let signed = release.size, signed != Int64(total) {
      throw refuse("its files add up to \(total) bytes, the signed size is \(signed)")
    }
  }
}
