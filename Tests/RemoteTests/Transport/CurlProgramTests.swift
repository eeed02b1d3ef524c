import Foundation
import MCPGenKit
import MCPGenRemote
import SystemPackage
import Testing

/// Which curl runs, with which environment.
@Suite("curl program", .enabled(if: TransportSupport.curlInstalled, "needs curl"))
struct CurlProgramTests {
  @Test("the system's curl is found at a fixed path, never through PATH")
  func foundAtFixedPath() throws {
    let program = try CurlProgram()
    #expect(CurlProgram.searchPath.contains(program.path))
  }

  @Test("a curl that another user could replace is refused")
  func untrustedCurlRefused() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try scratch.write("bin/curl", Array("#!/bin/sh\n".utf8))
    chmod(scratch.at("bin/curl"), 0o755)
    chmod(scratch.at("bin"), 0o777)  // Anyone may replace what is in it.
    let error = #expect(throws: MCPGenError.self) { try CurlProgram(path: FilePath(scratch.at("bin/curl"))) }
    #expect(error?.code == .permission)
    #expect(error?.message.contains("refusing to run") == true)
    chmod(scratch.at("bin"), 0o755)
    chmod(scratch.at("bin/curl"), 0o777)
    #expect(throws: MCPGenError.self) { try CurlProgram(path: FilePath(scratch.at("bin/curl"))) }
  }

  @Test("curl's environment is the proxy variables and CURL_CA_BUNDLE, nothing else")
  func onlyProxyVariablesPass() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    // A curl that writes down its environment and arguments (root-owned, 0755, in 0755
    // directories: trusted).
    let seen = scratch.at("seen")
    try scratch.write("bin/curl", Array("#!/bin/sh\n/usr/bin/env > \(seen)\necho \"$@\" > \(seen).args\n".utf8))
    chmod(scratch.at("bin/curl"), 0o755)
    var program = try CurlProgram(path: FilePath(scratch.at("bin/curl")))
    // Given as the program's environment rather than set in this process, whose environment the
    // tests running in parallel share: only the proxy variables and CURL_CA_BUNDLE of it may reach curl.
    program.proxyEnvironment = [
      "CURL_HOME": "/nonexistent", "SSLKEYLOGFILE": "/tmp/keys",
      "HTTP_PROXY": "http://127.0.0.1:9/", "HTTPS_PROXY": "http://127.0.0.1:8/",
      "CURL_CA_BUNDLE": "/etc/ssl/private-ca.pem", "SSL_CERT_FILE": "/tmp/other.pem",
    ]
    let fetcher = CurlFetcher(program: program, options: CurlFetcher.Options(), cancelled: { false })

    // The fake curl reports nothing: a failure, not an empty success. Its exec can fail with
    // ETXTBSY while a process another test spawns at that moment has not yet reached its own
    // exec (which closes the script's close-on-exec write descriptor): then it left no `seen`,
    // and is run again, for up to 2 s.
    var result = await outcome { try fetcher.fetch("http://127.0.0.1:9/x", maxLength: 4) }
    for _ in 0..<40 where !FileManager.default.fileExists(atPath: seen) {
      TestClock.sleep(0.05)
      result = await outcome { try fetcher.fetch("http://127.0.0.1:9/x", maxLength: 4) }
    }
    guard case .failure(.unreachable) = result else {
      Issue.record("expected unreachable, got \(result)")
      return
    }
    var environment: [String: String] = [:]
    for line in (try String(contentsOfFile: seen, encoding: .utf8)).split(separator: "\n") {
      if let eq = line.firstIndex(of: "=") { environment[String(line[..<eq])] = String(line[line.index(after: eq)...]) }
    }
    #expect(environment["HTTPS_PROXY"] == "http://127.0.0.1:8/")
    #expect(environment["HTTP_PROXY"] == nil)  // curl ignores it on purpose; so do we.
    #expect(environment["CURL_HOME"] == nil)
    #expect(environment["SSLKEYLOGFILE"] == nil)
    #expect(environment["HOME"] == nil)
    #expect(environment["CURL_CA_BUNDLE"] == "/etc/ssl/private-ca.pem")
    #expect(environment["SSL_CERT_FILE"] == nil)
    #expect(environment["PATH"] == nil)
    // /bin/sh sets PWD (and may set SHLVL, _) itself: those are the shell's, not ours.
    let ours = Set(environment.keys).subtracting(["PWD", "SHLVL", "_", "OLDPWD"])
    #expect(ours.isSubset(of: Set(CurlProgram.passedVariables)), "\(ours)")
    // -q first, so that no .curlrc is read; only http, https and file.
    let arguments = try String(contentsOfFile: seen + ".args", encoding: .utf8)
    #expect(arguments.hasPrefix("-q "))
    #expect(arguments.contains("--proto =http,https,file"))
    #expect(arguments.contains("--proto-redir =http,https"))
  }
}
