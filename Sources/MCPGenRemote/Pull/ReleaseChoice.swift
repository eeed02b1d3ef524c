import MCPGenKit
import MCPGenTerminal

/// Which release a pull wants: a channel's newest, or one named by label or key.
public enum ReleaseSelector: Sendable, Equatable {
  /// The target with the highest `custom.sequence` whose `custom.channels` lists the channel.
  case channel(String)
  /// The target whose `custom.label` is this text, else whose key is this key or key prefix
  /// (at least 8 lowercase hex digits).
  case release(String)

  public static let defaultChannel = "stable"
}

/// A release target of the trusted targets metadata: `releases/<K>` whose signed SHA-256 is K.
public struct RemoteRelease: Sendable, Equatable {
  public var target: TrustedTarget
  public var key: StoreKey
  public var label: String?
  public var channels: [String]
  public var sequence: Int64
  /// `custom.size`: the sum of the release's file sizes, as signed.
  public var size: Int64?

  static let prefix = "releases/"

  /// Nil for a target that is no release of this format (another name, or a signed SHA-256
  /// that is not the key its name gives: such a target can only be refused, never chosen).
  init?(_ target: TrustedTarget) {
    guard target.name.hasPrefix(RemoteRelease.prefix),
      let key = StoreKey(String(target.name.dropFirst(RemoteRelease.prefix.count))),
      target.hashes["sha256"] == key.hex
    else { return nil }
    self.target = target
    self.key = key
    let custom = target.custom
    label = custom?["label"]?.stringValue
    channels = custom?["channels"]?.arrayValue?.compactMap(\.stringValue) ?? []
    sequence = custom?["sequence"]?.intValue ?? 0
    size = custom?["size"]?.intValue
  }

  /// The releases of `targets`, in ascending sequence (then key, for a stable order).
  static func all(_ targets: [TrustedTarget]) -> [RemoteRelease] {
    targets.compactMap(RemoteRelease.init).sorted { ($0.sequence, $0.key) < ($1.sequence, $1.key) }
  }

  /// The release `selector` names among `targets`; `.notFound` or `.ambiguous` otherwise.
  static func choose(_ targets: [TrustedTarget], _ selector: ReleaseSelector, remote: String) throws(MCPGenError) -> RemoteRelease {
    let releases = all(targets)
    switch selector {
    case .channel(let channel):
      guard let newest = releases.last(where: { $0.channels.contains(channel) }) else {
        let known = Set(releases.flatMap(\.channels)).sorted()
        throw MCPGenError(
          .notFound,
          "remote \(remote) has no release on channel '\(displayName(Array(channel.utf8)))'"
            + (known.isEmpty ? " (it lists no releases)" : " (its channels: \(known.joined(separator: ", ")))")
            + "; name another channel or a release with --release")
      }
      return newest
    case .release(let text):
      if let labelled = releases.last(where: { $0.label == text }) { return labelled }
      if StoreKey.isPrefix(text) {
        let matches = releases.filter { $0.key.hex.hasPrefix(text) }
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 {
          throw MCPGenError(.ambiguous, "\(text) matches \(matches.count) releases of remote \(remote); give more digits of the key")
        }
      }
      throw MCPGenError(
        .notFound,
        "remote \(remote) has no release labelled or keyed '\(displayName(Array(text.utf8)))'; give a label or key its targets list")
    }
  }
}
