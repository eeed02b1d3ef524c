import Foundation
import MCPGenKit
import MCPGenRemote
import MCPGenSystem
import SystemPackage

/// One client against one python-tuf repository: its trusted metadata directory, the fetcher
/// serving a state of the repository, and updaters made with a fixed "now".
final class UpdaterHarness: @unchecked Sendable {
  let fixture: TUFFixture
  let metadataDirectory: String
  let fetcher: DirectoryFetcher

  init(_ scenario: String, state: String = "s1") throws {
    fixture = try TUFFixture(scenario)
    metadataDirectory = try fixture.makeMetadataDirectory()
    fetcher = DirectoryFetcher(FilePath(fixture.state(state)))
  }

  func serve(_ state: String) { fetcher.serve(FilePath(fixture.state(state))) }

  /// `timestampAlong`: `fetchesTimestampWithNextRoot`, as `pull` sets it.
  func updater(now: Int64 = TUFFixture.fixedNow, timestampAlong: Bool = false) -> Updater {
    var u = Updater(
      metadataDirectory: FilePath(metadataDirectory), metadataURL: DirectoryFetcher.base + "/metadata",
      targetsURL: DirectoryFetcher.base + "/targets/", fetcher: fetcher, now: now)
    u.fetchesTimestampWithNextRoot = timestampAlong
    return u
  }

  /// A refresh by a new updater (one update cycle), as `pull` and the conformance client do.
  func refresh(now: Int64 = TUFFixture.fixedNow, timestampAlong: Bool = false) throws(MCPGenError) {
    var u = updater(now: now, timestampAlong: timestampAlong)
    try u.refresh()
  }

  var trusted: [String: [UInt8]] { (try? directoryContents(metadataDirectory)) ?? [:] }

  /// The trusted files by SHA-256: what "unchanged" compares (and prints when it fails).
  var digests: [String: String] { trusted.mapValues { SHA256.hash($0).hexString(12) } }

  func served(_ state: String, _ path: String) -> [UInt8]? {
    (try? Data(contentsOf: URL(fileURLWithPath: fixture.state(state) + "/" + path))).map(Array.init)
  }

  /// The version inside a trusted file.
  func version(_ file: String) -> Int64? {
    guard let bytes = trusted[file], let json = try? JSON(parsing: bytes) else { return nil }
    return json["signed"]?["version"]?.intValue
  }

  func remove() { fixture.remove() }
}

/// The error `body` threw, nil when it threw none.
func failure(_ body: () throws(MCPGenError) -> Void) -> MCPGenError? {
  do {
    try body()
    return nil
  } catch {
    return error
  }
}
