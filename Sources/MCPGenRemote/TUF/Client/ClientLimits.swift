/// Every bound of the client workflow in one place (python-tuf's `UpdaterConfig` numbers): the
/// specification's defence against endless-data attacks is a cap on each download, and against
/// endless root chains or delegation graphs a cap on their length.
public struct ClientLimits: Sendable {
  /// Bytes of one root version (its length is known from nothing signed).
  public var rootMaxLength = 512_000
  public var timestampMaxLength = 16_384
  /// Used when timestamp gives no length for snapshot.
  public var snapshotMaxLength = 2_000_000
  /// Used when snapshot gives no length for a targets role.
  public var targetsMaxLength = 5_000_000
  /// Root versions fetched in one refresh (the specification's Y).
  public var maxRootRotations = 256
  /// Targets roles visited in one delegation search.
  public var maxDelegations = 32

  public init() {}
}
