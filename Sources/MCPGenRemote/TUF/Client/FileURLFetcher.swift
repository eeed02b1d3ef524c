import MCPGenSystem
import SystemPackage

// Until h20-transport's CurlFetcher is merged: `file://` URLs only, capped like the real one.
public struct FileURLFetcher: RemoteFetcher {
  public init() {}

  public func fetch(_ url: String, maxLength: Int) throws(FetchError) -> [UInt8] {
    guard url.hasPrefix("file://") else { throw .unreachable(url: url, reason: "only file:// URLs are supported") }
    let path = FilePath(String(url.dropFirst("file://".count)))
    guard let name = path.lastComponent else { throw .notFound(url: url) }
    let bytes: [UInt8]
    do {
      bytes = try DirectoryFD.open(ConformanceFiles.parent(of: path)).openFile(Array(name.string.utf8), flags: OpenFlags.readOnly).readAll()
    } catch {
      if error.errno == .noSuchFileOrDirectory { throw .notFound(url: url) }
      throw .unreachable(url: url, reason: error.description)
    }
    guard bytes.count <= maxLength else { throw .tooLong(url: url, limit: maxLength) }
    return bytes
  }
}
