import Foundation
import MCPGenRemote
import Synchronization
import Testing

/// `CurlFetcher.fetch` against nginx and against the fault-injecting server.
@Suite("curl fetch", .enabled(if: TransportSupport.serverTools, "needs curl, nginx and python3"))
struct CurlFetchTests {
  @Test("a file served by nginx arrives byte for byte, also at exactly its cap")
  func fetchFromNginx() async throws {
    let site = try Scratch()
    defer { site.remove() }
    let big = (0..<(3 * 1024 * 1024 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    try site.write("metadata/1.root.json", Array("{\"signed\":{}}".utf8))
    try site.write("objects/ab/cdef", big)
    try site.write("empty", [])
    let nginx = try await Nginx.start(serving: site.path)
    defer { nginx.stop() }
    let fetcher = try TransportSupport.fetcher()

    let result1 = await outcome { try fetcher.fetch(nginx.url + "/metadata/1.root.json", maxLength: 512_000) }
    #expect(result1 == .success(Array("{\"signed\":{}}".utf8)))
    let result2 = await outcome { try fetcher.fetch(nginx.url + "/objects/ab/cdef", maxLength: big.count) }
    #expect(result2 == .success(big))
    let result3 = await outcome { try fetcher.fetch(nginx.url + "/empty", maxLength: 10) }
    #expect(result3 == .success([]))
    #expect(nginx.accessLog().contains("GET /objects/ab/cdef HTTP/1.1 200 \(big.count)"))
  }

  @Test("404 and 403 are notFound, any other status is status, with the URL")
  func statuses() async throws {
    let site = try Scratch()
    defer { site.remove() }
    let nginx = try await Nginx.start(serving: site.path)
    defer { nginx.stop() }
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let fetcher = try TransportSupport.fetcher()

    let missing = nginx.url + "/metadata/2.root.json"
    let result4 = await outcome { try fetcher.fetch(missing, maxLength: 100) }
    #expect(result4 == .failure(.notFound(url: missing)))
    for (path, expected) in [
      ("/status/403", FetchError.notFound(url: fault.url + "/status/403")),
      ("/status/500", .status(url: fault.url + "/status/500", code: 500)),
      ("/status/418", .status(url: fault.url + "/status/418", code: 418)),
    ] {
      let result5 = await outcome { try fetcher.fetch(fault.url + path, maxLength: 100) }
      #expect(result5 == .failure(expected))
    }
  }

  @Test("a transient failure is retried a bounded number of times, a 404 never")
  func retries() async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let fetcher = try TransportSupport.fetcher(retries: 3, retryDelay: 0.05)

    // Two 503s, then the body: the third attempt gets it.
    let result6 = await outcome { try fetcher.fetch(fault.url + "/flaky/2/300", maxLength: 300) }
    #expect(result6 == .success(patternBytes(300)))
    #expect(fault.requests().filter { $0 == "GET /flaky/2/300" }.count == 3)
    // Always 500: one attempt and three retries, then the status.
    let result7 = await outcome { try fetcher.fetch(fault.url + "/status/500", maxLength: 100) }
    #expect(result7 == .failure(.status(url: fault.url + "/status/500", code: 500)))
    #expect(fault.requests().filter { $0 == "GET /status/500" }.count == 4)
    let result8 = await outcome { try fetcher.fetch(fault.url + "/status/404", maxLength: 100) }
    #expect(result8 == .failure(.notFound(url: fault.url + "/status/404")))
    #expect(fault.requests().filter { $0 == "GET /status/404" }.count == 1)
  }

  @Test("an endless body stops at the cap: tooLong, and curl is gone")
  func endlessBodyIsCapped() async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let fetcher = try TransportSupport.fetcher(retries: 2)
    let url = fault.url + "/endless"
    let started = Started()
    let (result9, ended) = await timedOutcome { started.now(); return try fetcher.fetch(url, maxLength: 16384) }
    #expect(result9 == .failure(.tooLong(url: url, limit: 16384)))
    #expect(ended.timeIntervalSince(started.at) < 60)  // Not for ever (the bound allows for a busy machine).
    #expect(curlProcesses(containing: url).isEmpty)
    // Not retried: a server that sends too much is not having a bad moment.
    #expect(fault.requests().filter { $0 == "GET /endless" }.count == 1)
  }

  @Test("a body announced longer than the cap is refused; one exactly at the cap is not")
  func announcedLength() async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let fetcher = try TransportSupport.fetcher()
    let result10 = await outcome { try fetcher.fetch(fault.url + "/ok/5000", maxLength: 4999) }
    #expect(result10 == .failure(.tooLong(url: fault.url + "/ok/5000", limit: 4999)))
    let result11 = await outcome { try fetcher.fetch(fault.url + "/ok/5000", maxLength: 5000) }
    #expect(result11 == .success(patternBytes(5000)))
  }

  @Test("a cut body is an error, never a short success", arguments: ["/cut/100000", "/cut-chunked/100000"])
  func cutBody(path: String) async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let fetcher = try TransportSupport.fetcher()
    let result = await outcome { try fetcher.fetch(fault.url + path, maxLength: 1_000_000) }
    guard case .failure(.unreachable(let url, let reason)) = result else {
      Issue.record("expected unreachable, got \(result)")
      return
    }
    #expect(url == fault.url + path)
    #expect(reason.contains("curl exit code 18"))
  }

  @Test("a stalled or crawling server times out", arguments: ["/stall/100", "/slow/100"])
  func slowServerTimesOut(path: String) async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    // Below 50 bytes per second for 2 seconds: cut.
    let fetcher = try TransportSupport.fetcher(speedTime: 2, speedLimit: 50)
    let started = Started()
    let (result, ended) = await timedOutcome { started.now(); return try fetcher.fetch(fault.url + path, maxLength: 1000) }
    let seconds = ended.timeIntervalSince(started.at)
    guard case .failure(.unreachable(_, let reason)) = result else {
      Issue.record("expected unreachable, got \(result)")
      return
    }
    #expect(reason.contains("curl exit code 28"))
    // Cut after about 2 s (without the limit: 100 s, or an hour); the rest is start-up on a busy
    // machine (other tests can hold the threads that start and reap curl).
    #expect(seconds >= 1.5 && seconds < 60)
  }

  @Test("a refused connection is unreachable with curl's one-line reason")
  func refused() async throws {
    let port = try freePort()
    let fetcher = try TransportSupport.fetcher()
    let url = "http://127.0.0.1:\(port)/metadata/timestamp.json"
    let result = await outcome { try fetcher.fetch(url, maxLength: 100) }
    guard case .failure(.unreachable(url, let reason)) = result else {
      Issue.record("expected unreachable, got \(result)")
      return
    }
    #expect(reason.contains("Couldn't connect to server (curl exit code 7)"))
    #expect(!reason.contains("\n"))
  }

  @Test("file:// URLs: a file arrives, a missing one is notFound, the cap holds")
  func fileURLs() async throws {
    let site = try Scratch()
    defer { site.remove() }
    try site.write("metadata/timestamp.json", Array("{}".utf8))
    try site.write("big", patternBytes(70000))
    let fetcher = try TransportSupport.fetcher()
    let result12 = await outcome { try fetcher.fetch("file://" + site.at("metadata/timestamp.json"), maxLength: 16384) }
    #expect(result12 == .success(Array("{}".utf8)))
    let missing = "file://" + site.at("metadata/2.root.json")
    let result13 = await outcome { try fetcher.fetch(missing, maxLength: 100) }
    #expect(result13 == .failure(.notFound(url: missing)))
    let big = "file://" + site.at("big")
    let result14 = await outcome { try fetcher.fetch(big, maxLength: 69999) }
    #expect(result14 == .failure(.tooLong(url: big, limit: 69999)))
    let result15 = await outcome { try fetcher.fetch(big, maxLength: 70000) }
    #expect(result15 == .success(patternBytes(70000)))
  }

  @Test("other protocols are refused")
  func otherProtocols() async throws {
    let fetcher = try TransportSupport.fetcher()
    for url in ["ftp://127.0.0.1/x", "gopher://127.0.0.1/x", "dict://127.0.0.1/x"] {
      let result = await outcome { try fetcher.fetch(url, maxLength: 100) }
      guard case .failure(.unreachable(_, let reason)) = result else {
        Issue.record("expected unreachable for \(url), got \(result)")
        continue
      }
      #expect(reason.contains("curl exit code 1)"), "\(reason)")
    }
  }

  /// `fetchInOrder`: the same, with a body that arrived before the stalled one.
  @Test("cancelling kills curl and ends the fetch with cancelled", arguments: [false, true])
  func cancellation(inOrder: Bool) async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let flag = CancelFlag()
    let fetcher = try TransportSupport.fetcher(speedTime: 600, cancelled: { flag.isRaised })
    let url = fault.url + "/stall/100"
    let raised = TransportSupport.cancelOnceRunning(url, flag)
    let (result, ended) = await timedOutcome { () throws -> [UInt8] in
      guard inOrder else { return try fetcher.fetch(url, maxLength: 1000) }
      _ = try fetcher.fetchInOrder([(fault.url + "/ok/10", 10), (url, 1000)])
      return []
    }
    #expect(result == .failure(.cancelled))
    #expect(raised.wasRunning)
    #expect(ended.timeIntervalSince(raised.at) < 10)  // Not the 600 s of the stall.
    #expect(curlProcesses(containing: url).isEmpty)
  }
}


/// The fetcher blocks its caller. Called from threads of Swift's cooperative pool (async code, or
/// a test), it must not need that pool to start and reap curl: with every thread of the pool
/// blocked in a fetch, a fetcher that did would never finish.
@Suite("curl fetch from the cooperative pool", .enabled(if: TransportSupport.curlInstalled, "needs curl"))
struct CurlPoolTests {
  @Test("more blocking fetches at once than the pool has threads all finish")
  func saturatedPool() async throws {
    let site = try Scratch()
    defer { site.remove() }
    try site.write("x", patternBytes(1000))
    let fetcher = try TransportSupport.fetcher()
    let url = "file://" + site.at("x")
    let fetched = Counter()
    let width = 4 * ProcessInfo.processInfo.activeProcessorCount
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<width {
        group.addTask {
          // Synchronously, on a pool thread: each blocks one of them until its curl is reaped.
          if (try? fetcher.fetch(url, maxLength: 1000)) == patternBytes(1000) { fetched.add() }
        }
      }
    }
    #expect(fetched.value == width)
  }
}

/// The fault server in front of nginx: what other suites use to break a real remote's answers.
@Suite("fault proxy in front of nginx", .enabled(if: TransportSupport.serverTools, "needs curl, nginx and python3"))
struct FaultProxyTests {
  @Test("rules change the answers for matching paths, the rest passes through unchanged")
  func rules() async throws {
    let site = try Scratch()
    defer { site.remove() }
    try site.write("metadata/timestamp.json", Array("{\"t\":1}".utf8))
    try site.write("objects/ab/cd", patternBytes(5000))
    let nginx = try await Nginx.start(serving: site.path)
    defer { nginx.stop() }
    let fault = try await FaultServer.start(upstream: nginx.url)
    defer { fault.stop() }
    let fetcher = try TransportSupport.fetcher(speedTime: 2, speedLimit: 50)
    let object = fault.url + "/objects/ab/cd"
    let timestamp = fault.url + "/metadata/timestamp.json"

    var result = await outcome { try fetcher.fetch(object, maxLength: 5000) }
    #expect(result == .success(patternBytes(5000)))
    try fault.setRules([("objects/", "wrong")])
    result = await outcome { try fetcher.fetch(object, maxLength: 5000) }
    #expect(result == .success(patternBytes(5000).map { $0 ^ 0xFF }))
    result = await outcome { try fetcher.fetch(timestamp, maxLength: 100) }
    #expect(result == .success(Array("{\"t\":1}".utf8)))
    try fault.setRules([("timestamp", "500"), ("objects/", "cut")])
    result = await outcome { try fetcher.fetch(timestamp, maxLength: 100) }
    #expect(result == .failure(.status(url: timestamp, code: 500)))
    result = await outcome { try fetcher.fetch(object, maxLength: 5000) }
    guard case .failure(.unreachable) = result else {
      Issue.record("a cut object must fail: \(result)")
      return
    }
    try fault.setRules([("objects/", "endless")])
    result = await outcome { try fetcher.fetch(object, maxLength: 5000) }
    #expect(result == .failure(.tooLong(url: object, limit: 5000)))
    try fault.setRules([])
    result = await outcome { try fetcher.fetch(fault.url + "/metadata/2.root.json", maxLength: 100) }
    #expect(result == .failure(.notFound(url: fault.url + "/metadata/2.root.json")))
  }
}
