import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MCPGenKit
@testable import MCPGenRemote
import SystemPackage
import Testing

/// `RemoteDirectoryTrust`: what `publish init` judges before it makes a directory.
@Suite("remote directory trust")
struct RemoteDirectoryTrustTests {
  @Test("existingPrefix: the path itself when it exists, else the nearest directory above it that does; . for a relative path none of whose parts exists")
  func existingPrefix() throws {
    let d = try Scratch()
    defer { d.remove() }
    try d.makeDirectory("a")
    func prefix(_ path: String) -> String { String(decoding: RemoteDirectoryTrust.existingPrefix(Array(path.utf8)), as: UTF8.self) }
    #expect(prefix(d.at("a")) == d.at("a"))
    #expect(prefix(d.at("a/b/c")) == d.at("a"))
    #expect(prefix(d.at("a//b//")) == d.at("a"))
    #expect(prefix("/no-such-directory-here/x") == "/")
    #expect(prefix("/") == "/")
    #expect(prefix("no-such-directory-here/x") == ".")
    #expect(prefix("") == ".")
  }

  @Test("a private key another user may read is refused before it is read; a 0600 one loads")
  func unprotectedKey() throws {
    let d = try Scratch()
    defer { d.remove() }
    let path = FilePath(d.at("k"))
    _ = try KeyFile.generate(path)
    chmod(d.at("k"), 0o640)
    let error = try #require(throws: MCPGenError.self) { try KeyFile.load(path) }
    #expect(error.code == .permission && error.hint == "chmod 600 \(d.at("k"))")
    chmod(d.at("k"), 0o600)
    _ = try KeyFile.load(path)
  }
}
