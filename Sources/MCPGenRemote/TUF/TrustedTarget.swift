import MCPGenKit

/// A target of the signed targets metadata (top-level or delegated), handed out only after every
/// check of the client workflow passed: what `pull` chooses a release from.
public struct TrustedTarget: Sendable, Equatable {
  /// The target path, e.g. `releases/<key>` (store-layout.md, the remote).
  public var name: String
  /// The exact length of the target file.
  public var length: Int
  /// Algorithm (`sha256`, `sha512`) to lowercase hex digest, as signed.
  public var hashes: [String: String]
  /// The target's `custom` object as signed, nil when it has none.
  public var custom: JSON?

  public init(name: String, length: Int, hashes: [String: String], custom: JSON?) {
    self.name = name
    self.length = length
    self.hashes = hashes
    self.custom = custom
  }
}

/// What `pull` needs of the TUF client: refresh the trusted metadata (the specification's
/// workflow, section 5), then the verified targets, and a target's bytes checked against its
/// signed length and hashes. Failures are `MCPGenError` with code `.untrusted` (verification)
/// or `.unreachable` (transport).
public protocol TrustedTargetSource {
  /// Runs the client workflow up to and including the top-level targets metadata.
  mutating func refresh() throws(MCPGenError)
  /// The target named `name`, searched through delegations as the specification says; nil when
  /// no trusted role lists it.
  mutating func target(named name: String) throws(MCPGenError) -> TrustedTarget?
  /// Every target of the top-level targets role (where mcp-gen's publisher lists releases).
  func topLevelTargets() -> [TrustedTarget]
  /// The bytes of `target`, refused unless their length and every signed hash match.
  func download(_ target: TrustedTarget) throws(MCPGenError) -> [UInt8]
}
