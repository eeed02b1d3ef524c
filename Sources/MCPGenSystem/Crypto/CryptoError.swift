/// Why a key could not be loaded, made or used. Thrown instead of crashing on hostile input
/// (bad PEM, wrong lengths, an unsupported key type): keys arrive from files and the network.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// The bytes are not a key of the expected form (PEM, DER, raw length).
    case malformedKey
    /// A well-formed key of a type or curve this scheme does not accept.
    case unsupportedKey
    /// libcrypto refused an operation it should have done (out of memory, a broken provider).
    case failed
  }

  public var kind: Kind
  /// One line: what was wrong, for the caller to wrap in its own error.
  public var message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }
}
