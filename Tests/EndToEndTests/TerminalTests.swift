import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// What people at a terminal see and scripts never do: colour and the progress line. A
/// pseudo-terminal stands in for the operator's terminal.
@Suite("terminal: colour and the progress line")
struct TerminalTests {
  static let red = "\u{1B}[31m"
  static let green = "\u{1B}[32m"
  static let yellow = "\u{1B}[33m"
  static let reset = "\u{1B}[0m"

  // MARK: Colour

  @Test("on a terminal, error: is red and hint: yellow; an empty NO_COLOR does not count")
  func errorColours() throws {
    let out = try Terminal.run(["show"], environment: ["NO_COLOR": ""])
    #expect(out.status == 64)
    #expect(out.text.hasPrefix("\(Self.red)error:\(Self.reset) Missing expected argument"), "\(out.text.debugDescription)")
    #expect(out.text.contains("\(Self.yellow)hint:\(Self.reset) mcp-gen show --help"), "\(out.text.debugDescription)")
  }

  @Test("on a terminal, list marks current green; status shows the generation green; verify says intact in green")
  func dataColours() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    #expect(try CLI.run(["switch", "--root", root, "--no-checks", CLI.fixture("mcp-1.0")]).status == 0)
    let list = try Terminal.run(["list", "--root", root], environment: ["NO_COLOR": ""])
    #expect(list.text.contains("\n\(Self.green)*\(Self.reset)     1  "), "\(list.text.debugDescription)")
    let status = try Terminal.run(["status", "--root", root], environment: ["NO_COLOR": ""])
    #expect(status.text.contains("generation: \(Self.green)1\(Self.reset)\n"), "\(status.text.debugDescription)")
    let verify = try Terminal.run(["verify", "--root", root], environment: ["NO_COLOR": ""])
    #expect(verify.text.contains("is \(Self.green)intact\(Self.reset)"), "\(verify.text.debugDescription)")
  }

  @Test("NO_COLOR=1, --no-color and TERM=dumb turn colour off on a terminal", arguments: [
    (["NO_COLOR": "1"], [String]()), (["NO_COLOR": ""], ["--no-color"]), (["NO_COLOR": "", "TERM": "dumb"], []),
  ])
  func colourOff(environment: [String: String], flags: [String]) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.at("root")
    #expect(try CLI.run(["switch", "--root", root, "--no-checks", CLI.fixture("mcp-1.0")]).status == 0)
    for arguments in [["list", "--root", root] + flags, ["show", "--root", root, "7"] + flags] {
      let out = try Terminal.run(arguments, environment: environment)
      #expect(!out.text.contains("\u{1B}"), "\(arguments): \(out.text.debugDescription)")
      #expect(!out.text.isEmpty)
    }
  }

  @Test("through pipes nothing is coloured, even with an error and a hint")
  func pipesUncoloured() throws {
    let out = try CLI.run(["show", "--root", "/nonexistent-root-for-colour", "1"], environment: ["NO_COLOR": "", "TERM": "xterm"])
    #expect(out.status == 1)
    #expect(out.stderrText.hasPrefix("error: "))
    #expect(!out.stderrText.contains("\u{1B}") && !out.stdoutText.contains("\u{1B}"))
  }

  // MARK: Progress line

  /// One sparse file of 1 GiB: no disk space, and hashing it on one core lasts long enough
  /// (about half a second) for several redraws.
  static func bigRelease(_ scratch: Scratch) throws -> String {
    let path = scratch.at("big.bin")
    #expect(FileManager.default.createFile(atPath: path, contents: nil))
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.truncate(atOffset: 1 << 30)
    try handle.close()
    return path
  }

  @Test("on a terminal, hash draws `hashing N/M files, ...` in place with \\r and clears it; --quiet draws nothing")
  func progressOnTerminal() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let big = try Self.bigRelease(scratch)
    let key = try CLI.run(["hash", big]).stdoutText
    let out = try Terminal.run(["hash", big])
    #expect(out.status == 0)
    let draws = out.text.split(separator: "\r", omittingEmptySubsequences: true)
    #expect(draws.contains { $0.hasPrefix("hashing 0/1 files, ") || $0.hasPrefix("hashing 1/1 files, ") }, "\(out.text.debugDescription)")
    #expect(draws.contains { $0.contains(" MB/1.1 GB") }, "\(out.text.debugDescription)")
    // Cleared before the key is printed: the key starts a line of its own.
    #expect(out.text.hasSuffix("\r" + key), "\(out.text.debugDescription)")

    let quiet = try Terminal.run(["hash", "--quiet", big])
    #expect(quiet.text == key, "\(quiet.text.debugDescription)")
  }

  @Test("without a terminal nothing is drawn, unless MCP_GEN_PROGRESS=always; never with --quiet")
  func progressWithoutTerminal() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let big = try Self.bigRelease(scratch)
    let plain = try CLI.run(["hash", big])
    #expect(plain.status == 0 && plain.stderr.isEmpty, "\(plain.stderrText.debugDescription)")

    let forced = try CLI.run(["hash", big], environment: ["MCP_GEN_PROGRESS": "always"])
    #expect(forced.stdoutText == plain.stdoutText)
    #expect(forced.stderrText.hasPrefix("\rhashing "), "\(forced.stderrText.debugDescription)")
    #expect(!forced.stderrText.contains("\n"))
    // The last write blanks the line and returns to its start.
    let last = forced.stderrText.split(separator: "\r").last ?? ""
    #expect(!last.isEmpty && last.allSatisfy { $0 == " " }, "\(forced.stderrText.debugDescription)")

    let quiet = try CLI.run(["hash", "--quiet", big], environment: ["MCP_GEN_PROGRESS": "always"])
    #expect(quiet.stderr.isEmpty && quiet.stdoutText == plain.stdoutText)
  }
}

/// Runs the built binary with stdout and stderr on a fresh pseudo-terminal (stdin on
/// /dev/null), and returns what the terminal received, with the terminal's `\r\n` for each
/// newline turned back into `\n`.
enum Terminal {
  struct Output {
    var status: Int32
    var text: String
  }

  static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Output {
    // posix_openpt and friends are not imported from Glibc; these are their Linux ioctls
    // (asm-generic/ioctls.h: TIOCGPTN = _IOR('T', 0x30, int), TIOCSPTLCK = _IOW('T', 0x31, int)).
    let getPTYNumber: UInt = 0x8004_5430
    let setPTYLock: UInt = 0x4004_5431
    let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
    guard master >= 0 else { throw E2EFailure("no pseudo-terminal: \(String(cString: strerror(errno)))") }
    defer { close(master) }
    var unlock: Int32 = 0
    var number: Int32 = 0
    guard withUnsafeMutablePointer(to: &unlock, { ioctl(master, setPTYLock, $0) }) == 0,
      withUnsafeMutablePointer(to: &number, { ioctl(master, getPTYNumber, $0) }) == 0
    else { throw E2EFailure("cannot set up a pseudo-terminal: \(String(cString: strerror(errno)))") }
    let name = "/dev/pts/\(number)"
    let slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)
    guard slave >= 0 else { throw E2EFailure("cannot open \(name): \(String(cString: strerror(errno)))") }
    var env = CLI.environment()
    env.removeValue(forKey: "MCP_GEN_PROGRESS")
    env["TERM"] = "xterm"
    env.merge(extra) { _, new in new }

    let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer { close(input) }
    let process: TestProcess
    do {
      process = try TestProcess(
        executable: Array(CLI.binary.utf8), arguments: arguments.map { Array($0.utf8) }, stdin: input, stdout: slave,
        stderr: slave, environment: env)
    } catch {
      close(slave)
      throw error
    }
    close(slave)  // the child holds its own copies; reading then ends when it exits

    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = read(master, &buffer, buffer.count)
      if n > 0 { bytes += buffer[0..<n]; continue }
      if n < 0 && errno == EINTR { continue }
      break  // EIO: every copy of the terminal's other end is closed
    }
    let status = process.wait()
    let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    return Output(status: TestProcess.exitCode(status) ?? 128 + (TestProcess.signal(status) ?? 0), text: text)
  }
}
