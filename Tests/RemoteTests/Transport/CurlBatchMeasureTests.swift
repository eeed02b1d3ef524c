import Foundation
import MCPGenRemote
import Synchronization
import SystemPackage
import Testing

/// How long `fetchAll` takes for many small objects from nginx on loopback, next to one `fetch`
/// (one curl process) per object. A measurement, not a check: run it on purpose with
/// `MCP_GEN_MEASURE_TRANSPORT=9000 swift test --filter CurlBatchMeasureTests`.
@Suite(
  "curl batch measurement",
  .enabled(if: TransportSupport.serverTools && ProcessInfo.processInfo.environment["MCP_GEN_MEASURE_TRANSPORT"] != nil,
    "set MCP_GEN_MEASURE_TRANSPORT=N to measure"))
struct CurlBatchMeasureTests {
  @Test("N objects of 4 KiB: one curl for all of them, then one curl per object")
  func measure() async throws {
    let count = Int(ProcessInfo.processInfo.environment["MCP_GEN_MEASURE_TRANSPORT"] ?? "") ?? 9000
    let site = try Scratch()
    defer { site.remove() }
    let out = try Scratch()
    defer { out.remove() }
    for i in 0..<count { try site.write("objects/\(String(i % 256, radix: 16))/\(i)", patternBytes(4096)) }
    let nginx = try await Nginx.start(serving: site.path)
    defer { nginx.stop() }
    let fetcher = try TransportSupport.fetcher(parallel: 16)
    let requests = (0..<count).map { i in
      FetchRequest(
        url: nginx.url + "/objects/\(String(i % 256, radix: 16))/\(i)", destination: FilePath(out.at("\(i)")), maxLength: 4096)
    }
    let fetched = Counter()
    let started = Date()
    _ = try await blocking {
      try fetcher.fetchAll(requests, progress: nil) { _, result in
        if case .success = result { fetched.add() }
        return true
      }
    }
    let batch = Date().timeIntervalSince(started)
    #expect(fetched.value == count)
    let single = Counter()
    let singleStarted = Date()
    _ = try await blocking {
      for request in requests where (try? fetcher.fetch(request.url, maxLength: 4096)) != nil { single.add() }
    }
    let each = Date().timeIntervalSince(singleStarted)
    #expect(single.value == count)
    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?"
    print(String(format: "fetchAll, one curl: %d objects in %.2f s; fetch, one curl each: %.2f s (%.1fx); load %@",
                 count, batch, each, each / batch, load.split(separator: " ").prefix(3).joined(separator: " ")))
  }
}
