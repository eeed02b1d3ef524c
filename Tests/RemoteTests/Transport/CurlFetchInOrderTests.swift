import MCPGenRemote
import Testing

/// `CurlFetcher.fetchInOrder`: several bodies from one curl process, back to back on its stdout,
/// each told apart by its transfer's report and capped on its own.
@Suite("curl fetch in order", .enabled(if: TransportSupport.serverTools, "needs curl, nginx and python3"))
struct CurlFetchInOrderTests {
  typealias Answers = [Result<[UInt8], FetchError>]

  func answers(_ fetcher: CurlFetcher, _ requests: [(url: String, maxLength: Int)]) async -> Result<Answers, FetchError> {
    await outcome { try fetcher.fetchInOrder(requests) }
  }

  @Test("each body is its own, a 404 among them is notFound, and the requests reach nginx in order")
  func inOrder() async throws {
    let site = try Scratch()
    defer { site.remove() }
    let timestamp = Array("{\"signed\":{\"_type\":\"timestamp\"}}".utf8)
    let big = patternBytes(2 * 1024 * 1024 + 5)
    try site.write("metadata/timestamp.json", timestamp)
    try site.write("objects/big", big)
    try site.write("empty", [])
    let nginx = try await Nginx.start(serving: site.path)
    defer { nginx.stop() }
    let fetcher = try TransportSupport.fetcher()

    let root = nginx.url + "/metadata/2.root.json"
    let result = await answers(fetcher, [
      (root, 512_000), (nginx.url + "/metadata/timestamp.json", 16_384), (nginx.url + "/empty", 10),
      (nginx.url + "/objects/big", big.count),
    ])
    #expect(result == .success([.failure(.notFound(url: root)), .success(timestamp), .success([]), .success(big)]))
    let asked = nginx.accessLog().compactMap { line in
      ["2.root.json", "timestamp.json", "empty", "big"].first { line.contains("/\($0) HTTP") }
    }
    #expect(asked == ["2.root.json", "timestamp.json", "empty", "big"])
  }

  @Test("a body over its own cap is tooLong; the ones before and after it arrive")
  func ownCap() async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let fetcher = try TransportSupport.fetcher()
    let result = await answers(fetcher, [
      (fault.url + "/ok/300", 300), (fault.url + "/ok/5000", 4999), (fault.url + "/ok/700", 700),
    ])
    #expect(result == .success([
      .success(patternBytes(300)), .failure(.tooLong(url: fault.url + "/ok/5000", limit: 4999)), .success(patternBytes(700)),
    ]))
  }

  @Test("an endless body is tooLong once the caps are used up; curl is gone and what was after it is unreachable")
  func endless() async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let fetcher = try TransportSupport.fetcher()
    let endless = fault.url + "/endless"
    let after = fault.url + "/ok/101"
    let got = try await answers(fetcher, [(fault.url + "/ok/100", 100), (endless, 16_384), (after, 101)]).get()
    try #require(got.count == 3)
    #expect(got[0] == .success(patternBytes(100)))
    #expect(got[1] == .failure(.tooLong(url: endless, limit: 16_384)))
    guard case .failure(.unreachable(after, _)) = got[2] else {
      Issue.record("expected unreachable for the request after the endless one, got \(got[2])")
      return
    }
    #expect(curlProcesses(containing: endless).isEmpty)
  }

  @Test("a cut body is an error of its own; the next body still starts at its first byte")
  func cutInTheMiddle() async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let fetcher = try TransportSupport.fetcher()
    let cut = fault.url + "/cut/100000"
    let got = try await answers(fetcher, [(cut, 1_000_000), (fault.url + "/ok/300", 300)]).get()
    try #require(got.count == 2)
    guard case .failure(.unreachable(cut, let reason)) = got[0] else {
      Issue.record("expected unreachable for the cut body, got \(got[0])")
      return
    }
    #expect(reason.contains("curl exit code 18"))
    #expect(got[1] == .success(patternBytes(300)))
  }
}
