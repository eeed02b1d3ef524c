#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import MCPGenSystem
import SystemPackage
import Testing

@Suite("ChildProcess: the one runner of git, tar and health checks")
struct ChildProcessTests {
  /// `ChildProcess.run` blocks its thread while the child runs: off the cooperative pool, so the
  /// other tests running at once keep their threads (`fromManyTasks` calls it on the pool).
  static func run(_ spec: ChildProcess.Spec) async -> Result<ChildProcess.Finished, ChildProcess.StartFailure> {
    await withCheckedContinuation { done in
      DispatchQueue.global().async { done.resume(returning: ChildProcess.run(spec)) }
    }
  }

  static func shell(_ script: String) -> ChildProcess.Spec {
    ChildProcess.Spec(.name("sh"), [Array("-c".utf8), Array(script.utf8)])
  }

  @Test("output is kept to its first 4 KiB, stderr to its last, stdin is /dev/null")
  func boundedOutput() async throws {
    let run = try await Self.run(Self.shell("head -c 100000 /dev/zero; cat; i=0; while [ $i -lt 2000 ]; do echo line$i >&2; i=$((i+1)); done")).get()
    #expect(run.succeeded)
    #expect(run.output.count == ChildProcess.outputLimit)
    #expect(run.errorOutput.count == ChildProcess.outputLimit)
    #expect(run.lastErrorLine == "line1999")
  }

  @Test("the environment is this process's, without the removed names, with the set ones")
  func environment() async throws {
    var spec = Self.shell("printf %s \"$MCP_GEN_TEST_X-${HOME:-none}\"")
    spec.settingEnvironment = ["MCP_GEN_TEST_X": "1"]
    spec.removingFromEnvironment = ["HOME"]
    let run = try await Self.run(spec).get()
    #expect(String(decoding: run.output, as: UTF8.self) == "1-none")
  }

  @Test("in its own process group, a timeout kills everything the child started")
  func timeoutKillsGroup() async throws {
    var spec = Self.shell("sleep 30 & echo $!; wait")
    spec.ownProcessGroup = true
    spec.errorIntoOutput = true
    spec.timeout = 0.5
    // No bound on the time taken: the runner's tasks share the cooperative pool with every other
    // test running at once. A shell that was not killed ends with status 0 after its sleep.
    let run = try await Self.run(spec).get()
    #expect(run.timedOut)
    #expect(run.status == .signaled(SIGKILL))
    let grandchild = Int32(String(decoding: run.errorOutput.filter { $0 != 0x0A }, as: UTF8.self)) ?? 0
    #expect(grandchild > 0)
    // The group got SIGKILL too: the background sleep is gone (reaped by init, or a zombie at most briefly).
    var gone = false
    for _ in 0..<100 where !gone {
      gone = kill(grandchild, 0) != 0 && errno == ESRCH
      if !gone { usleep(20_000) }
    }
    #expect(gone, "the grandchild \(grandchild) outlived the timeout")
  }

  @Test("a program that is not on PATH is notInstalled, not a failed run")
  func notInstalled() async {
    switch await Self.run(ChildProcess.Spec(.name("mcp-gen-no-such-program"), [])) {
    case .failure(.notInstalled(let name)): #expect(name == "mcp-gen-no-such-program")
    case let other: Issue.record("expected notInstalled, got \(other)")
    }
  }

  @Test("the child starts in the working directory given, by name found on PATH")
  func workingDirectory() async throws {
    var spec = ChildProcess.Spec(.name("pwd"), [])
    spec.workingDirectory = FilePath("/usr/lib")
    let run = try await Self.run(spec).get()
    #expect(String(decoding: run.output, as: UTF8.self) == "/usr/lib\n")
    spec.workingDirectory = FilePath("/mcp-gen-no-such-directory")
    switch await Self.run(spec) {
    case .failure(.couldNotStart(_, let why)): #expect(why.contains("cannot enter /mcp-gen-no-such-directory"), "\(why)")
    case let other: Issue.record("expected couldNotStart, got \(other)")
    }
  }

  /// Many more callers than the cooperative pool has threads, each blocking its pool thread in
  /// `run`: the runner must need no other thread of the pool (with one built on Swift tasks,
  /// this never finished).
  @Test("run completes when called from more concurrent Swift tasks than the pool has threads")
  func fromManyTasks() async throws {
    let callers = max(4 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 32)
    let outputs = await withTaskGroup(of: (Int, String?).self) { group in
      for k in 0..<callers {
        group.addTask {
          var spec = Self.shell("sleep 0.05; printf %s \"$0\"")
          spec.arguments.append(Array(String(k).utf8))
          spec.ownProcessGroup = true
          spec.timeout = 120
          let run = try? ChildProcess.run(spec).get()
          return (k, run.map { String(decoding: $0.output, as: UTF8.self) })
        }
      }
      var outputs: [Int: String] = [:]
      for await (k, output) in group { outputs[k] = output }
      return outputs
    }
    #expect(outputs.count == callers)
    for k in 0..<callers { #expect(outputs[k] == String(k), "caller \(k)") }
  }
}
