import MCPGenKit

/// What `pull NAME [CHANNEL] [--release LABEL|KEY] [--switch]` asks for.
public struct PullRequest: Sendable {
  public var remote: RemoteName
  public var selector: ReleaseSelector
  /// Make the release current afterwards (`switch` with its health checks and rollback).
  public var switchAfter: Bool
  /// The health checks of that switch.
  public var config: Config

  public init(remote: RemoteName, selector: ReleaseSelector, switchAfter: Bool = false, config: Config = Config()) {
    self.remote = remote
    self.selector = selector
    self.switchAfter = switchAfter
    self.config = config
  }
}

/// What a pull did (`pull --json`, docs/json.md).
public struct PullResult: Sendable {
  public var remote: RemoteName
  /// The channel the release was chosen by; nil with `--release`.
  public var channel: String?
  public var key: StoreKey
  public var label: String?
  /// False when the release was stored already (and, with `--switch`, current already).
  public var changed: Bool
  /// With `--switch`: the release is current now (false when its checks failed and the
  /// switch was rolled back, see `switchOutcome`).
  public var switched: Bool
  /// Objects (distinct contents) downloaded by this run, and their bytes.
  public var downloadedObjects = 0
  public var downloadedBytes: UInt64 = 0
  /// Contents taken from releases already stored instead of downloaded (shared as hard links
  /// to the stored file, or copied), and their bytes.
  public var copiedFiles = 0
  public var copiedBytes: UInt64 = 0
  /// Objects an interrupted earlier pull had verified, used again without downloading.
  public var resumedObjects = 0
  /// The switch, with `--switch` when the release was not current.
  public var switchOutcome: SwitchOutcome?
  /// The `add` that stored it; nil when it was stored already.
  public var added: AddResult?

  public var json: JSON {
    .object([
      ("remote", .string(remote.text)),
      ("channel", channel.map(JSON.string) ?? .null),
      ("key", .string(key.hex)),
      ("label", label.map(JSON.string) ?? .null),
      ("changed", .bool(changed)),
      ("switched", .bool(switched)),
      ("downloaded", .object([("objects", .int(Int64(downloadedObjects))), ("bytes", .int(Int64(downloadedBytes)))])),
      ("copiedLocally", .object([("files", .int(Int64(copiedFiles))), ("bytes", .int(Int64(copiedBytes)))])),
    ])
  }
}
