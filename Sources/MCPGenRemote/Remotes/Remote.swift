import MCPGenKit
import MCPGenSystem
import SystemPackage

/// A remote configured on this root: `remotes/<name>/` with its `remote.json` and trusted
/// metadata (store-layout.md section 15).
public struct Remote: Sendable {
  public let name: RemoteName
  public let url: RemoteURL
  /// `<root>/remotes/<name>`: the trusted-metadata directory the TUF client reads and writes.
  public let directory: FilePath
  /// The version of the trusted `root.json`, nil when it cannot be read.
  public let rootVersion: Int64?

  static let configName = Array("remote.json".utf8)
  static let rootName = Array("root.json".utf8)
  /// TUF's suggested cap on root metadata (python-tuf's default).
  static let rootLimit = 512_000
  static let configLimit = 64 << 10

  /// `{"url":"U"}` and a newline.
  static func configBytes(_ url: RemoteURL) -> [UInt8] {
    JSON.object([("url", .string(url.text))]).serialized() + [0x0A]
  }

  /// Reads `remote.json` (and the trusted root's version) from the remote's open directory.
  static func read(_ name: RemoteName, _ dir: DirectoryFD) throws(MCPGenError) -> Remote {
    let where_ = dir.path.appending(bytes: configName)
    let bytes: [UInt8]
    do {
      bytes = try DurableFile.read(configName, in: dir, limit: configLimit)
    } catch {
      throw MCPGenError(error, doing: "read the configuration of remote \(name)")
    }
    guard let json = try? JSON(parsing: bytes), let text = json["url"]?.stringValue, let url = try? RemoteURL(text) else {
      throw MCPGenError(
        .invalidInput, "\(where_.displayString) has no usable \"url\"; remove the remote and add it again",
        hint: "mcp-gen remote remove \(name)", path: where_)
    }
    var version: Int64? = nil
    if let root = try? DurableFile.read(rootName, in: dir, limit: rootLimit), let json = try? JSON(parsing: root) {
      version = json["signed"]?["version"]?.intValue
    }
    return Remote(name: name, url: url, directory: dir.path, rootVersion: version)
  }
}
