import Foundation
import Testing

/// A remote served over HTTPS by nginx with a certificate of the test's own CA: curl checks the
/// server against the system's CAs, or the bundle `CURL_CA_BUNDLE` names (the one variable
/// besides the proxies that mcp-gen hands curl). TLS decides who answers; the pulled bytes are
/// checked against the signed metadata either way.
@Suite("pull over HTTPS", .serialized, .enabled(if: SrvSite.toolsInstalled && HTTPSSite.opensslInstalled))
struct PullHTTPSTests {
  @Test("a server whose CA curl is given is pulled from; one curl does not know is refused (exit 8), nothing stored")
  func privateCA() throws {
    let site = try HTTPSSite()
    defer { site.stop() }
    let key = try site.publish()
    let client = site.publisher.scratch.at("client")
    let trust = site.publisher.remote + "/metadata/1.root.json"
    let add = try CLI.run(["remote", "add", "origin", site.nginx.url, "--trust", trust, "--root", client])
    #expect(add.status == 0, "\(add.stderrText)")

    // The system's CAs do not know the test's: exit 8, one line, nothing stored or trusted.
    let unknown = try CLI.run(["pull", "origin", "--root", client], environment: ["CURL_CA_BUNDLE": ""])
    #expect(unknown.status == 8, "\(unknown.stderrText)")
    #expect(unknown.stderrText.split(separator: "\n").count == 1, "\(unknown.stderrText)")
    #expect(unknown.stderrText.contains("CURL_CA_BUNDLE"), "\(unknown.stderrText)")
    #expect(!FileManager.default.fileExists(atPath: client + "/store/" + key))
    #expect(!FileManager.default.fileExists(atPath: client + "/remotes/origin/timestamp.json"))

    // Given the CA: the release is pulled and stored.
    let pulled = try CLI.run(["pull", "origin", "--root", client], environment: ["CURL_CA_BUNDLE": site.certificate])
    #expect(pulled.status == 0, "\(pulled.stderrText)")
    #expect(FileManager.default.fileExists(atPath: client + "/store/" + key))
    #expect(site.nginx.accessLog().contains { $0.hasPrefix("GET /objects/") && $0.contains(" 200 ") })
    let audit = try CLI.run(["audit", "--root", client])
    #expect(audit.status == 0, "\(audit.stdoutText)\(audit.stderrText)")
  }
}

/// A publisher's remote served by nginx over HTTPS with a self-signed certificate for
/// 127.0.0.1 (its own CA).
final class HTTPSSite {
  static var opensslInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

  let publisher: PubRemote
  let nginx: Nginx
  var certificate: String { publisher.scratch.at("tls/cert.pem") }

  init() throws {
    publisher = try PubRemote()
    do {
      let dir = publisher.scratch.at("tls")
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      let made = try CLI.runProcess(
        "/usr/bin/openssl",
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"],
        environment: CLI.environment())
      guard made.status == 0 else { throw E2EFailure("openssl req: \(made.stderrText)") }
      nginx = try Nginx(serving: publisher.remote, tls: Nginx.TLS(certificate: dir + "/cert.pem", key: dir + "/key.pem"))
    } catch {
      publisher.remove()
      throw error
    }
  }

  /// Adds and publishes a small release; its key.
  func publish() throws -> String {
    let tree = try publisher.release("rel", version: "1.0", files: 4)
    let added = try publisher.ok(["add", tree, "--label", "1.0"])
    guard let key = Rel.addedKey(added) else { throw E2EFailure("add printed no key: \(added.stdoutText)") }
    try publisher.ok(publisher.publishArguments("1.0"))
    return key
  }

  func stop() {
    nginx.stop()
    publisher.remove()
  }
}
