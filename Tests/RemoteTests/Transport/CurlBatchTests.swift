import Foundation
import MCPGenRemote
import Synchronization
import SystemPackage
import Testing

/// `CurlFetcher.fetchAll`: many transfers from one curl process, or one per core for a large batch.
@Suite("curl batch", .enabled(if: TransportSupport.serverTools, "needs curl, nginx and python3"))
struct CurlBatchTests {
  /// Every `completed` call, by request index, and every progress report.
  final class Outcomes: Sendable {
    let results = Mutex<[Int: [Result<Int, FetchError>]]>([:])
    let progress = Mutex<[FetchProgress]>([])

    func record(_ index: Int, _ result: Result<Int, FetchError>) {
      results.withLock { $0[index, default: []].append(result) }
    }
    func result(_ index: Int) -> Result<Int, FetchError>? { results.withLock { $0[index]?.first } }
    var calls: [Int: Int] { results.withLock { $0.mapValues(\.count) } }
  }

  @Test("many files from nginx in one curl, one missing: each reported once, as soon as it is done")
  func manyFilesOneFailing() async throws {
    let site = try Scratch()
    defer { site.remove() }
    let out = try Scratch()
    defer { out.remove() }
    let count = 300
    let body: @Sendable (Int) -> [UInt8] = { i in (0..<(i * 37 % 5000)).map { UInt8(truncatingIfNeeded: $0 &+ i) } }
    for i in 0..<count where i != 123 { try site.write("objects/\(i % 16)/\(i)", body(i)) }
    let nginx = try await Nginx.start(serving: site.path)
    defer { nginx.stop() }
    let fetcher = try TransportSupport.fetcher(parallel: 8)
    let requests = (0..<count).map { i in
      FetchRequest(url: nginx.url + "/objects/\(i % 16)/\(i)", destination: FilePath(out.at("\(i)")), maxLength: body(i).count)
    }
    let outcomes = Outcomes()
    let complete = Atomic<Int>(0)
    let batch = await outcome {
      try fetcher.fetchAll(requests, progress: { p in outcomes.progress.withLock { $0.append(p) } }) { index, result in
        // The file is complete when reported: this is where pull verifies and renames it.
        if case .success(let size) = result, out.read("\(index)") == body(index), size == body(index).count {
          complete.add(1, ordering: .relaxed)
        }
        outcomes.record(index, result)
        return true
      }
    }
    #expect(batch.map { true } == .success(true))
    #expect(complete.load(ordering: .relaxed) == count - 1)
    #expect(outcomes.calls.count == count)
    #expect(outcomes.calls.values.allSatisfy { $0 == 1 })
    #expect(outcomes.result(123) == .failure(.notFound(url: requests[123].url)))
    #expect(out.read("123") == nil)
    for i in 0..<count where i != 123 { #expect(outcomes.result(i) == .success(body(i).count)) }
    #expect(nginx.accessLog().count == count)
    if let last = outcomes.progress.withLock({ $0.last }) {
      #expect(last.files == count && last.totalFiles == count)
      #expect(last.bytes == UInt64((0..<count).filter { $0 != 123 }.map { body($0).count }.reduce(0, +)))
    } else {
      Issue.record("no progress report")
    }
  }

  @Test("a large batch runs from one curl per core (two at most), each request reported once with its own bytes")
  func splitAcrossProcesses() async throws {
    let count = 600
    let body: @Sendable (Int) -> [UInt8] = { i in (0..<(i * 53 % 3000 + 1)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i) } }
    let servers = try await SplitBatchServers.start(count - 2, body)
    defer { servers.stop() }
    let (out, nginx, fault) = (servers.out, servers.nginx, servers.fault)
    let fetcher = try TransportSupport.fetcher(parallel: 8, processes: 2)
    let processes = min(2, ProcessInfo.processInfo.activeProcessorCount)
    #expect(fetcher.shardCount(count) == processes)
    #expect(fetcher.shardCount(CurlFetcher.smallestSplitBatch - 1) == 1)
    // The last two (one in each process) take two seconds: both curls still run when the first
    // report arrives.
    var requests = (0..<count - 2).map { i in
      FetchRequest(url: nginx.url + "/o/\(i)", destination: FilePath(out.at("\(i)")), maxLength: body(i).count)
    }
    for i in count - 2..<count { requests.append(FetchRequest(url: fault.url + "/slow/2", destination: FilePath(out.at("\(i)")), maxLength: 2)) }
    let outcomes = Outcomes()
    let running = Mutex(0)  // The most curl processes of this batch seen at once.
    let all = requests
    let batch = await outcome {
      try fetcher.fetchAll(all, progress: nil) { index, result in
        running.withLock { if $0 < processes { $0 = max($0, curlProcesses(containing: nginx.url).count) } }
        outcomes.record(index, result)
        return true
      }
    }
    #expect(batch.map { true } == .success(true))
    #expect(running.withLock { $0 } == processes)
    #expect(outcomes.calls.count == count)
    #expect(outcomes.calls.values.allSatisfy { $0 == 1 })
    for i in 0..<count - 2 {
      #expect(outcomes.result(i) == .success(body(i).count))
      #expect(out.read("\(i)") == body(i))
    }
    for i in count - 2..<count { #expect(outcomes.result(i) == .success(2)) }
    #expect(nginx.accessLog().count == count - 2)
  }

  @Test("an endless body in a batch split across curl processes kills every one of them")
  func endlessBodyInSplitBatch() async throws {
    let count = 300
    let servers = try await SplitBatchServers.start(count - 2) { i in Array("object \(i)".utf8) }
    defer { servers.stop() }
    let (out, nginx, fault) = (servers.out, servers.nginx, servers.fault)
    // A long stall limit: the stalled transfer must still be running when curl is killed.
    let fetcher = try TransportSupport.fetcher(speedTime: 60, parallel: 8, processes: 2)
    var requests = (0..<count - 2).map { i in
      FetchRequest(url: nginx.url + "/o/\(i)", destination: FilePath(out.at("\(i)")), maxLength: 64)
    }
    // One in each process when there are two (request k goes to process k % 2): killing only
    // the process with the endless body would leave the stall running for its 60 s.
    requests.append(FetchRequest(url: fault.url + "/endless", destination: FilePath(out.at("endless")), maxLength: 100_000))
    requests.append(FetchRequest(url: fault.url + "/stall/10", destination: FilePath(out.at("stall")), maxLength: 10))
    let outcomes = Outcomes()
    let started = Started()
    let all = requests
    let (_, ended) = await timedOutcome {
      started.now()
      try fetcher.fetchAll(all, progress: nil) { index, result in
        outcomes.record(index, result)
        return true
      }
    }
    #expect(ended.timeIntervalSince(started.at) < 30)  // Not the stall's 60 s.
    #expect(outcomes.result(count - 2) == .failure(.tooLong(url: requests[count - 2].url, limit: 100_000)))
    guard case .failure(.unreachable(_, let reason))? = outcomes.result(count - 1) else {
      Issue.record("the stalled transfer must fail: \(String(describing: outcomes.result(count - 1)))")
      return
    }
    #expect(reason.contains("more than 100000 bytes"))
    #expect(out.read("stall") == nil && out.read("endless") == nil)
    #expect(outcomes.calls.count == count)
    #expect(curlProcesses(containing: fault.url).isEmpty)
  }

  @Test("faults in a batch: statuses, a cut body, an oversized one, each its own failure")
  func faults() async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let out = try Scratch()
    defer { out.remove() }
    let fetcher = try TransportSupport.fetcher(retries: 2, parallel: 4)
    let paths = ["/ok/1000", "/status/404", "/status/500", "/cut/5000", "/ok/2000", "/flaky/1/10", "/ok/0"]
    let caps = [1000, 10, 10, 5000, 1999, 10, 0]
    let requests = paths.indices.map { i in
      FetchRequest(url: fault.url + paths[i], destination: FilePath(out.at("f\(i)")), maxLength: caps[i])
    }
    let outcomes = Outcomes()
    _ = try await blocking {
      try fetcher.fetchAll(requests, progress: nil) { index, result in
        outcomes.record(index, result)
        return true
      }
    }
    #expect(outcomes.result(0) == .success(1000))
    #expect(out.read("f0") == patternBytes(1000))
    #expect(outcomes.result(1) == .failure(.notFound(url: requests[1].url)))
    #expect(outcomes.result(2) == .failure(.status(url: requests[2].url, code: 500)))
    guard case .failure(.unreachable(_, let reason))? = outcomes.result(3) else {
      Issue.record("a cut body must fail: \(String(describing: outcomes.result(3)))")
      return
    }
    #expect(reason.contains("curl exit code 18"))
    #expect(out.read("f3") == nil)
    #expect(outcomes.result(4) == .failure(.tooLong(url: requests[4].url, limit: 1999)))
    #expect(outcomes.result(5) == .success(10))  // curl's --retry: a 503, then the body.
    #expect(outcomes.result(6) == .success(0))
    #expect(out.read("f6") == [])
    // Retried with backoff, bounded: the 500 was tried three times.
    #expect(fault.requests().filter { $0 == "GET /status/500" }.count == 3)
  }

  @Test("an endless body in a batch is cut near its cap and kills the batch's curl")
  func endlessBodyInBatch() async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let out = try Scratch()
    defer { out.remove() }
    // A long stall limit: the stalled transfer must still be running when curl is killed.
    let fetcher = try TransportSupport.fetcher(speedTime: 60, parallel: 4)
    let requests = [
      FetchRequest(url: fault.url + "/endless", destination: FilePath(out.at("b")), maxLength: 100_000),
      FetchRequest(url: fault.url + "/stall/10", destination: FilePath(out.at("c")), maxLength: 10),
    ]
    let outcomes = Outcomes()
    let started = Started()
    let (_, ended) = await timedOutcome {
      started.now()
      try fetcher.fetchAll(requests, progress: nil) { index, result in
        outcomes.record(index, result)
        return true
      }
    }
    #expect(ended.timeIntervalSince(started.at) < 60)  // Not for ever (the bound allows for a busy machine).
    #expect(outcomes.result(0) == .failure(.tooLong(url: requests[0].url, limit: 100_000)))
    guard case .failure(.unreachable(_, let reason))? = outcomes.result(1) else {
      Issue.record("the transfer curl was running must fail: \(String(describing: outcomes.result(1)))")
      return
    }
    #expect(reason.contains("more than 100000 bytes"))
    #expect(out.read("b") == nil && out.read("c") == nil)
    #expect(curlProcesses(containing: fault.url + "/endless").isEmpty)
  }

  @Test("cancelling a batch kills its curl, removes unfinished files and throws cancelled")
  func cancellation() async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let out = try Scratch()
    defer { out.remove() }
    let flag = CancelFlag()
    let fetcher = try TransportSupport.fetcher(speedTime: 600, parallel: 2, cancelled: { flag.isRaised })
    let requests = [
      FetchRequest(url: fault.url + "/ok/10", destination: FilePath(out.at("a")), maxLength: 10),
      FetchRequest(url: fault.url + "/slow/100", destination: FilePath(out.at("b")), maxLength: 100),
      FetchRequest(url: fault.url + "/stall/100", destination: FilePath(out.at("c")), maxLength: 100),
    ]
    let outcomes = Outcomes()
    let raised = TransportSupport.cancelOnceRunning(fault.url + "/stall/100", flag)
    let (batch, ended) = await timedOutcome {
      try fetcher.fetchAll(requests, progress: nil) { index, result in
        outcomes.record(index, result)
        return true
      }
    }
    #expect(batch.map { true } == .failure(.cancelled))
    #expect(raised.wasRunning)
    #expect(ended.timeIntervalSince(raised.at) < 10)  // Not the 600 s of the stall.
    #expect(outcomes.result(0) == .success(10))
    #expect(outcomes.result(1) == nil && outcomes.result(2) == nil)
    #expect(out.read("a") == patternBytes(10))
    #expect(out.read("b") == nil && out.read("c") == nil)
    #expect(curlProcesses(containing: fault.url + "/stall/100").isEmpty)
  }

  @Test("completed returning false stops the batch at once")
  func stopFromCallback() async throws {
    let fault = try await FaultServer.start()
    defer { fault.stop() }
    let out = try Scratch()
    defer { out.remove() }
    let fetcher = try TransportSupport.fetcher(speedTime: 600, parallel: 2)
    let requests = [
      FetchRequest(url: fault.url + "/ok/10", destination: FilePath(out.at("a")), maxLength: 10),
      FetchRequest(url: fault.url + "/stall/100", destination: FilePath(out.at("b")), maxLength: 100),
    ]
    let outcomes = Outcomes()
    let stopped = Started()
    let (_, ended) = await timedOutcome {
      try fetcher.fetchAll(requests, progress: nil) { index, result in
        outcomes.record(index, result)
        stopped.now()
        return false
      }
    }
    #expect(ended.timeIntervalSince(stopped.at) < 10)  // Not the 600 s of the stall.
    #expect(outcomes.calls == [0: 1])
    #expect(out.read("b") == nil)
    #expect(curlProcesses(containing: fault.url + "/stall/100").isEmpty)
  }

  @Test("file:// URLs and awkward destination names in a batch")
  func fileURLsAndNames() async throws {
    let site = try Scratch()
    defer { site.remove() }
    let out = try Scratch()
    defer { out.remove() }
    try site.write("x", Array("hello".utf8))
    let fetcher = try TransportSupport.fetcher()
    let names = ["plain", "with space", "quote\"back\\slash", "tab\tand\nnewline", "-dash"]
    var requests = names.map { FetchRequest(url: "file://" + site.at("x"), destination: FilePath(out.at($0)), maxLength: 5) }
    requests.append(FetchRequest(url: "file://" + site.at("missing"), destination: FilePath(out.at("m")), maxLength: 5))
    let outcomes = Outcomes()
    let all = requests
    _ = try await blocking {
      try fetcher.fetchAll(all, progress: nil) { index, result in
        outcomes.record(index, result)
        return true
      }
    }
    for (i, name) in names.enumerated() {
      #expect(outcomes.result(i) == .success(5), "\(name)")
      #expect(out.read(name) == Array("hello".utf8), "\(name)")
    }
    #expect(outcomes.result(names.count) == .failure(.notFound(url: requests[names.count].url)))
  }
}

/// For a batch large enough to be split: `count` files `o/<i>` with `body(i)` served by nginx, a
/// fault server for the transfers that must stall or never end, and a directory for the
/// downloads.
private struct SplitBatchServers {
  let site: Scratch
  let out: Scratch
  let nginx: Nginx
  let fault: FaultServer

  static func start(_ count: Int, _ body: (Int) -> [UInt8]) async throws -> SplitBatchServers {
    let site = try Scratch()
    for i in 0..<count { try site.write("o/\(i)", body(i)) }
    return SplitBatchServers(site: site, out: try Scratch(), nginx: try await Nginx.start(serving: site.path), fault: try await FaultServer.start())
  }

  func stop() {
    nginx.stop()
    fault.stop()
    site.remove()
    out.remove()
  }
}
