import Foundation
import MCPGenRemote
import Synchronization
import Testing

/// The proxy environment variables reach curl. The test hands them to its own fetcher instead of
/// setting them in this process, whose environment every test running in parallel shares.
@Suite("curl proxy", .serialized, .enabled(if: TransportSupport.serverTools, "needs curl and python3"))
struct CurlProxyTests {
  @Test("http_proxy is honoured: the request reaches the proxy with its absolute URL")
  func httpProxyHonoured() async throws {
    let proxy = try await FaultServer.start()
    defer { proxy.stop() }
    let fetcher = try TransportSupport.fetcher(proxy: ["http_proxy": proxy.url, "no_proxy": "127.0.0.1,localhost"])
    // A name that resolves nowhere: only the proxy can answer for it.
    let url = "http://mcp-gen-remote.invalid/ok/1234"
    #expect(await outcome { try fetcher.fetch(url, maxLength: 1234) } == .success(patternBytes(1234)))
    #expect(proxy.requests().contains("GET \(url)"))

    // The batch API runs curl the same way.
    let scratch = try Scratch()
    defer { scratch.remove() }
    let results = Mutex<[Int: Result<Int, FetchError>]>([:])
    let destination = scratch.at("a")
    _ = try await blocking {
      try fetcher.fetchAll(
        [FetchRequest(url: "http://mcp-gen-remote.invalid/ok/99", destination: .init(destination), maxLength: 99)],
        progress: nil
      ) { index, result in
        results.withLock { $0[index] = result }
        return true
      }
    }
    #expect(results.withLock { $0[0] } == .success(99))
    #expect(proxy.requests().contains("GET http://mcp-gen-remote.invalid/ok/99"))

    // Without the variable, the same URL does not resolve.
    let direct = try TransportSupport.fetcher()
    guard case .failure(.unreachable) = await outcome({ try direct.fetch(url, maxLength: 1234) }) else {
      Issue.record("without a proxy, \(url) must be unreachable")
      return
    }
  }
}
