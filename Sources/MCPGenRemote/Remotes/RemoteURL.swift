import MCPGenKit
import MCPGenTerminal

/// A remote's base URL U (`remote.json`); metadata, targets and objects are below it
/// (`U/metadata/`, `U/targets/`, `U/objects/`, REMOTE-CONTRACT.md).
public struct RemoteURL: Sendable, Equatable, CustomStringConvertible {
  /// Without trailing slashes.
  public let text: String
  public var description: String { text }

  /// `http://`, `https://` or `file://`, printable ASCII without spaces, quotes or backslashes,
  /// at most 2048 bytes: what is written into `remote.json` and handed to the transport as is.
  public init(_ given: String) throws(MCPGenError) {
    var text = given
    while text.hasSuffix("/") && !text.hasSuffix("://") { text.removeLast() }
    let bytes = Array(text.utf8)
    let schemes = ["http://", "https://", "file://"]
    guard bytes.count <= 2048, schemes.contains(where: { text.hasPrefix($0) && text.count > $0.count }),
      bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C })
    else {
      throw MCPGenError(
        .invalidInput,
        "'\(displayName(Array(given.utf8)))' is not a remote URL: give an http://, https:// or file:// URL of the remote's directory (printable ASCII, no spaces)")
    }
    self.text = text
  }

  public var metadataURL: String { text + "/metadata/" }
  public var targetsURL: String { text + "/targets/" }
  public var objectsURL: String { text + "/objects/" }

  /// `U/objects/<2 hex>/<62 hex>`: a file's content by its SHA-256.
  public func objectURL(_ hex: String) -> String {
    objectsURL + hex.prefix(2) + "/" + hex.dropFirst(2)
  }
}
