import Foundation
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Helpers for the hostile-input, security, full-disk and fsync-order tests.
///
/// Names are prefixed (`Rel…`) so they cannot collide with helpers other test files define.
enum Rel {
  /// Exit statuses README.md documents.
  static let documentedStatuses: Set<Int32> = [0, 1, 2, 3, 4, 5, 6, 64]

  // MARK: Running the binary with a deadline

  /// A finished run: the shared runner's one result type.
  typealias Run = ProcessOutput

  /// A child started by `spawn`; `finish` waits for it with a deadline.
  typealias Spawned = RunningProcess

  /// Starts `executable ARGS` (default: mcp-gen); its output collects in unlinked files in `dir`.
  static func spawn(
    _ arguments: [String], outputIn dir: String, executable: String = CLI.binary,
    environment: [String: String] = Gen.childEnvironment
  ) throws -> Spawned {
    try ProcessRunner.start(executable, arguments, environment: environment, outputIn: dir)
  }

  /// Waits for `s`, killing it (SIGKILL) once `timeout` seconds have passed since it started.
  static func finish(_ s: Spawned, timeout: Double = 60) -> Run { s.finish(timeout: timeout) }

  /// Runs mcp-gen (or `executable`) to completion or the deadline.
  static func run(
    _ arguments: [String], outputIn dir: String, timeout: Double = 60, executable: String = CLI.binary,
    environment: [String: String] = Gen.childEnvironment
  ) throws -> Run {
    try ProcessRunner.run(executable, arguments, environment: environment, timeout: timeout, outputIn: dir)
  }

  // MARK: Shape of the output and of the root afterwards

  /// stderr is empty, or exactly one `error: ` line, optionally followed by one `hint: ` line.
  static func stderrIsEmptyOrOneLineError(_ stderr: String) -> Bool {
    stderr.isEmpty || Gen.isOneLineError(stderr)
  }

  /// Names a command in progress or a crash leaves behind: `store/.tmp-*`, `manifests/.tmp-*`,
  /// `.tmp-*` in the root, anything in `garbage/`.
  static func leftovers(_ root: String) -> [String] {
    var out: [String] = []
    for dir in ["store", "manifests", ""] {
      let path = dir.isEmpty ? root : root + "/" + dir
      for name in listNames(path) where name.starts(with: Array(".tmp-".utf8)) {
        out.append((dir.isEmpty ? "" : dir + "/") + String(decoding: name, as: UTF8.self))
      }
    }
    for name in listNames(root + "/garbage") { out.append("garbage/" + String(decoding: name, as: UTF8.self)) }
    return out
  }

  /// `mcp-gen audit --json --root ROOT`: its exit status and problems (severity, kind, detail).
  static func audit(_ root: String, outputIn dir: String) throws -> (run: Run, problems: [(severity: String, kind: String, detail: String)]) {
    let run = try Rel.run(["audit", "--json", "--root", root], outputIn: dir, timeout: 120)
    var problems: [(String, String, String)] = []
    if let object = try? JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any],
      let list = object["problems"] as? [[String: Any]]
    {
      for p in list {
        problems.append((p["severity"] as? String ?? "?", p["kind"] as? String ?? "?", p["detail"] as? String ?? ""))
      }
    }
    return (run, problems)
  }

  /// The root holds no partial state: `audit` passes (warnings allowed; errors only of the kinds
  /// in `tolerating`, damage put there on purpose before the command ran) and no temporary or
  /// garbage is left behind.
  static func expectSoundRoot(
    _ root: String, outputIn dir: String, tolerating: Set<String> = [], _ context: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let (run, problems) = try audit(root, outputIn: dir)
    let serious = problems.filter { $0.severity != "warning" && !tolerating.contains($0.kind) }
    #expect(run.endedCleanly, "\(context): audit \(run)", sourceLocation: sourceLocation)
    if tolerating.isEmpty {
      #expect(run.exitCode == 0, "\(context): audit \(run) \(run.stdoutText)", sourceLocation: sourceLocation)
    } else {
      #expect(run.exitCode == 0 || run.exitCode == 2, "\(context): audit \(run)", sourceLocation: sourceLocation)
    }
    #expect(serious.isEmpty, "\(context): audit found \(serious)", sourceLocation: sourceLocation)
    let left = leftovers(root)
    #expect(left.isEmpty, "\(context): left behind \(left)", sourceLocation: sourceLocation)
  }

  /// The key at the end of the path `add` prints, or nil.
  static func addedKey(_ run: Run) -> String? {
    let line = run.stdoutText.trimmingCharacters(in: .newlines)
    guard let slash = line.lastIndex(of: "/") else { return nil }
    let key = String(line[line.index(after: slash)...])
    return isKey(key) ? key : nil
  }

  static func isKey(_ s: String) -> Bool {
    s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
  }

  /// Names in `store/` that are store keys.
  static func storeKeys(_ root: String) -> [String] {
    listNames(root + "/store").map { String(decoding: $0, as: UTF8.self) }.filter(isKey).sorted()
  }

  /// `mcp-gen hash PATH`, or nil when it fails.
  static func hashKey(_ path: [UInt8], outputIn dir: String) throws -> String? {
    let run = try Rel.run(["hash", rawArgument(path)], outputIn: dir, timeout: 120)
    guard run.exitCode == 0 else { return nil }
    let text = run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    return isKey(text) ? text : nil
  }

  /// A command-line argument for a path (every path these tests pass on a command line is valid
  /// UTF-8; names with other bytes only ever occur inside a release).
  static func rawArgument(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

  // MARK: Raw-byte file system helpers

  static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

  static func withCPath<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    let c = path.map { CChar(bitPattern: $0) } + [0]
    return c.withUnsafeBufferPointer { body($0.baseAddress!) }
  }

  static func fail(_ what: String, _ path: [UInt8]) -> E2EFailure {
    E2EFailure("\(what) \(String(decoding: path, as: UTF8.self).debugDescription): \(String(cString: strerror(errno)))")
  }

  static func mkdir(_ path: [UInt8], _ mode: mode_t = 0o755) throws {
    guard withCPath(path, { Glibc.mkdir($0, mode) }) == 0 else { throw fail("mkdir", path) }
  }

  static func write(_ path: [UInt8], _ content: [UInt8], mode: mode_t = 0o644) throws {
    let fd = withCPath(path) { Glibc.open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
    guard fd >= 0 else { throw fail("create", path) }
    defer { close(fd) }
    try writeAll(fd, content, path)
    guard fchmod(fd, mode) == 0 else { throw fail("fchmod", path) }
  }

  static func writeAll(_ fd: CInt, _ content: [UInt8], _ path: [UInt8]) throws {
    var offset = 0
    while offset < content.count {
      let n = content[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      guard n > 0 else { throw fail("write", path) }
      offset += n
    }
  }

  static func symlink(_ target: [UInt8], at path: [UInt8]) throws {
    guard withCPath(target, { t in withCPath(path) { Glibc.symlink(t, $0) } }) == 0 else { throw fail("symlink", path) }
  }

  static func lstat(_ path: [UInt8]) -> stat? {
    var st = stat()
    return withCPath(path) { Glibc.lstat($0, &st) } == 0 ? st : nil
  }

  static func readlink(_ path: [UInt8]) -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: 8192)
    let n = withCPath(path) { p in buffer.withUnsafeMutableBytes { Glibc.readlink(p, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) } }
    return n >= 0 ? Array(buffer[0..<n]) : nil
  }

  /// The names in a directory as raw bytes (without `.` and `..`), sorted; empty if unreadable.
  static func listNames(_ path: String) -> [[UInt8]] { listNames(bytes(path)) }

  static func listNames(_ path: [UInt8]) -> [[UInt8]] {
    let fd = withCPath(path) { Glibc.open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    guard fd >= 0 else { return [] }
    return listNames(fd: fd)
  }

  /// Lists and closes `fd`.
  static func listNames(fd: CInt) -> [[UInt8]] { RawDirectory.names(fd: fd) }

  /// Every path below `root` (relative, raw bytes) with its type letter, walked through
  /// descriptors so paths longer than PATH_MAX work: `[(path, "d"|"f"|"l"|"?", size)]`.
  static func tree(_ root: String) -> [(path: [UInt8], type: Character, size: Int64, target: [UInt8])] {
    var out: [([UInt8], Character, Int64, [UInt8])] = []
    func visit(_ fd: CInt, _ prefix: [UInt8]) {
      let dup = Glibc.dup(fd)
      for name in listNames(fd: dup) {
        var st = stat()
        let ok = withCPath(name) { fstatat(fd, $0, &st, AT_SYMLINK_NOFOLLOW) } == 0
        let rel = prefix.isEmpty ? name : prefix + [0x2F] + name
        guard ok else { out.append((rel, "?", -1, [])); continue }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
          out.append((rel, "d", 0, []))
          let child = withCPath(name) { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
          if child >= 0 {
            visit(child, rel)
            close(child)
          }
        case S_IFREG: out.append((rel, "f", Int64(st.st_size), []))
        case S_IFLNK:
          var buffer = [UInt8](repeating: 0, count: 8192)
          let n = withCPath(name) { p in buffer.withUnsafeMutableBytes { readlinkat(fd, p, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) } }
          out.append((rel, "l", Int64(st.st_size), n >= 0 ? Array(buffer[0..<n]) : []))
        default: out.append((rel, "?", Int64(st.st_size), []))
        }
      }
    }
    let fd = withCPath(bytes(root)) { Glibc.open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    guard fd >= 0 else { return [] }
    visit(fd, [])
    close(fd)
    return out.sorted { $0.0.lexicographicallyPrecedes($1.0) }
  }

  /// Creates `components` as nested directories below `base` (each relative to the previous
  /// one's descriptor, so the whole path may exceed PATH_MAX), then `leaf` with `content` in
  /// the deepest one.
  static func makeChain(_ base: String, _ components: [[UInt8]], leaf: [UInt8], content: [UInt8]) throws {
    var fd = withCPath(bytes(base)) { Glibc.open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    guard fd >= 0 else { throw fail("open", bytes(base)) }
    defer { close(fd) }
    for c in components {
      guard withCPath(c, { mkdirat(fd, $0, 0o755) }) == 0 else { throw fail("mkdirat", c) }
      let next = withCPath(c) { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
      guard next >= 0 else { throw fail("openat", c) }
      close(fd)
      fd = next
    }
    let file = withCPath(leaf) { openat(fd, $0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
    guard file >= 0 else { throw fail("create", leaf) }
    defer { close(file) }
    try writeAll(file, content, leaf)
  }

  /// Deletes `path` and everything below it, also past PATH_MAX (`Scratch.removeTree`).
  static func removeTree(_ path: String) { Scratch.removeTree(FilePath(path)) }

  /// `count` bytes from /dev/urandom written to `path` in 4 MiB chunks.
  static func writeRandom(_ path: String, count: Int) throws {
    let input = Glibc.open("/dev/urandom", O_RDONLY | O_CLOEXEC)
    let output = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    defer { close(input); close(output) }
    guard input >= 0, output >= 0 else { throw fail("open", bytes(path)) }
    var buffer = [UInt8](repeating: 0, count: 4 << 20)
    var left = count
    while left > 0 {
      let want = min(left, buffer.count)
      let got = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, want) }
      guard got > 0 else { throw fail("read", bytes("/dev/urandom")) }
      try writeAll(output, Array(buffer[0..<got]), bytes(path))
      left -= got
    }
  }

  /// Runs a helper program, failing unless it exits 0.
  @discardableResult
  static func must(_ executable: String, _ arguments: [String]) throws -> CLI.Output {
    try ProcessRunner.run(executable, arguments).requireSuccess("\(executable) \(arguments.joined(separator: " "))")
  }

  static func tool(_ candidates: [String]) -> String? { TestEnvironment.tool(candidates) }

  static let mountPath = tool(["/usr/bin/mount", "/bin/mount"])
  static let umountPath = tool(["/usr/bin/umount", "/bin/umount"])
  static let setprivPath = ProcessRunner.setpriv

  /// Polls every 0.5 ms until `condition` holds or `timeout` passes; whether it held.
  static func poll(timeout: Double, while running: () -> Bool = { true }, _ condition: () -> Bool) -> Bool {
    let deadline = Gen.now() + timeout
    while Gen.now() < deadline {
      if condition() { return true }
      if !running() { return condition() }
      Gen.sleep(0.0005)
    }
    return false
  }

  /// The first `store/.tmp-*` name in `root`, if any.
  static func storeTemporary(_ root: String) -> String? {
    listNames(root + "/store").first { $0.starts(with: Array(".tmp-".utf8)) }.map { String(decoding: $0, as: UTF8.self) }
  }

  /// Whether process `pid` has `path` open (one of its /proc/PID/fd links points at it).
  static func hasOpen(_ pid: pid_t, _ path: String) -> Bool {
    let dir = "/proc/\(pid)/fd"
    for name in listNames(dir) {
      if let target = readlink(bytes(dir) + [0x2F] + name), target == bytes(path) { return true }
    }
    return false
  }
}

extension ProcessOutput {
  /// Ended by itself with a documented exit status (no signal, no hang, no 134/139).
  var endedCleanly: Bool {
    !timedOut && signal == nil && exitCode.map { Rel.documentedStatuses.contains($0) } == true
  }
}

// MARK: strace logs

/// One system call from an `strace -f -y` log, with `<unfinished ...>`/`<... resumed>` pieces
/// joined back together.
struct RelCall: CustomStringConvertible {
  var index: Int
  var pid: Int
  var name: String
  /// The argument text between the parentheses.
  var arguments: String
  /// The text after ` = ` (e.g. `0`, `3</path>`, `-1 ENOENT (No such file or directory)`).
  var result: String

  var description: String { "#\(index) \(name)(\(arguments)) = \(result)" }
  var succeeded: Bool { !result.hasPrefix("-1") && !result.hasPrefix("?") }

  /// Top-level arguments (split at commas outside quotes, braces, brackets and `<...>`).
  var fields: [String] {
    var out: [String] = []
    var current = ""
    var depth = 0
    var quoted = false
    var escaped = false
    for ch in arguments {
      if quoted {
        current.append(ch)
        if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { quoted = false }
        continue
      }
      switch ch {
      case "\"": quoted = true; current.append(ch)
      case "{", "[", "<", "(": depth += 1; current.append(ch)
      case "}", "]", ">", ")": depth -= 1; current.append(ch)
      case "," where depth == 0:
        out.append(current.trimmingCharacters(in: .whitespaces))
        current = ""
      default: current.append(ch)
      }
    }
    if !current.trimmingCharacters(in: .whitespaces).isEmpty { out.append(current.trimmingCharacters(in: .whitespaces)) }
    return out
  }

  /// The path a descriptor argument stands for (`3</a/b>` or `AT_FDCWD</cwd>`), if `field` is one.
  static func descriptorPath(_ field: String) -> String? {
    // An unnamed (O_TMPFILE) or removed file: `4</dir/#inode>(deleted)`.
    let field = field.hasSuffix(">(deleted)") ? String(field.dropLast("(deleted)".count)) : field
    guard let open = field.firstIndex(of: "<"), field.hasSuffix(">") else { return nil }
    let head = field[..<open]
    guard head == "AT_FDCWD" || (!head.isEmpty && head.allSatisfy(\.isNumber)) else { return nil }
    return String(field[field.index(after: open)..<field.index(before: field.endIndex)])
  }

  /// A quoted string argument, unescaped (only the escapes strace uses for printable paths).
  static func string(_ field: String) -> String? {
    guard field.hasPrefix("\""), field.count >= 2 else { return nil }
    var body = field.dropFirst()
    if body.hasSuffix("...") { body = body.dropLast(3) }  // truncated by -s
    guard body.hasSuffix("\"") else { return nil }
    body = body.dropLast()
    var out = ""
    var escaped = false
    for ch in body {
      if escaped {
        switch ch {
        case "n": out.append("\n")
        case "t": out.append("\t")
        default: out.append(ch)
        }
        escaped = false
      } else if ch == "\\" {
        escaped = true
      } else {
        out.append(ch)
      }
    }
    return out
  }

  /// Every path argument resolved to an absolute path: a string argument right after a
  /// descriptor argument is relative to that descriptor's path (unless absolute). A string not
  /// preceded by a descriptor (a symlink's target) is not a path this call touches.
  var resolvedPaths: [String] {
    let f = fields
    var out: [String] = []
    for (i, field) in f.enumerated() where i > 0 {
      guard let dir = RelCall.descriptorPath(f[i - 1]), let name = RelCall.string(field) else { continue }
      out.append(name.hasPrefix("/") ? name : RelCall.join(dir, name))
    }
    if name == "rename" || name == "mkdir" || name == "unlink" || name == "rmdir" {
      for field in f { if let s = RelCall.string(field) { out.append(s) } }
    }
    return out
  }

  static func join(_ dir: String, _ name: String) -> String {
    name == "." ? dir : (dir.hasSuffix("/") ? dir + name : dir + "/" + name)
  }

  /// The flags of an `openat`/`openat2` call.
  var openFlags: String {
    let f = fields
    if name == "openat2" { return f.count > 2 ? f[2] : "" }
    return f.count > 2 ? f[2] : ""
  }

  /// The descriptor argument at position `i` as its path.
  func descriptor(_ i: Int) -> String? {
    let f = fields
    return i < f.count ? RelCall.descriptorPath(f[i]) : nil
  }

  /// The path of the returned descriptor (`= 3</path>`).
  var resultPath: String? {
    guard let open = result.firstIndex(of: "<"), let close = result.lastIndex(of: ">") , open < close else { return nil }
    return String(result[result.index(after: open)..<close])
  }

  /// Parses an `strace -f` log.
  static func parse(_ log: String) -> [RelCall] {
    var calls: [RelCall] = []
    var pending: [Int: (name: String, arguments: String, index: Int)] = [:]
    var started = 0
    for raw in log.split(separator: "\n", omittingEmptySubsequences: true) {
      var line = Substring(raw)
      var pid = 0
      if let space = line.firstIndex(of: " "), let p = Int(line[..<space]) {
        pid = p
        line = line[space...].drop { $0 == " " }
      }
      if line.hasPrefix("<... ") {
        // "<... NAME resumed>REST) = RESULT"
        guard let resumed = line.range(of: " resumed>"), let start = pending[pid] else { continue }
        pending[pid] = nil
        let rest = line[resumed.upperBound...]
        let (args, result) = split(String(rest))
        calls.append(RelCall(index: start.index, pid: pid, name: start.name, arguments: start.arguments + args, result: result))
        continue
      }
      guard let paren = line.firstIndex(of: "("), !line.hasPrefix("---"), !line.hasPrefix("+++") else { continue }
      let name = String(line[..<paren])
      let after = String(line[line.index(after: paren)...])
      if after.hasSuffix(" <unfinished ...>") {
        pending[pid] = (name, String(after.dropLast(" <unfinished ...>".count)), started)
        started += 1
        continue
      }
      let (args, result) = split(after)
      calls.append(RelCall(index: started, pid: pid, name: name, arguments: args, result: result))
      started += 1
    }
    // Order by where each call started.
    return calls.sorted { $0.index < $1.index }.enumerated().map { i, c in var c = c; c.index = i; return c }
  }

  /// "ARGS) = RESULT" -> (ARGS, RESULT). strace pads a short line with spaces before " = " to
  /// line results up (`<... syncfs resumed>)             = 0`), so any run of spaces counts.
  private static func split(_ text: String) -> (String, String) {
    var search = text.endIndex
    while let r = text.range(of: " = ", options: .backwards, range: text.startIndex..<search) {
      var end = r.lowerBound
      while end > text.startIndex, text[text.index(before: end)] == " " { end = text.index(before: end) }
      if end > text.startIndex, text[text.index(before: end)] == ")" {
        return (String(text[..<text.index(before: end)]), String(text[r.upperBound...]))
      }
      search = r.lowerBound
    }
    return (text.hasSuffix(")") ? String(text.dropLast()) : text, "?")
  }
}

enum RelStrace {
  /// Runs mcp-gen ARGS under `strace -f -qq -y -s 65535 -e trace=TRACE -o LOG`; the calls and
  /// the raw log text.
  static func run(
    _ arguments: [String], trace: String, log: String, outputIn dir: String,
    environment: [String: String] = Gen.childEnvironment, timeout: Double = 120
  ) throws -> (run: Rel.Run, calls: [RelCall], text: String) {
    guard let strace = KillPoints.stracePath else { throw E2EFailure("strace is not installed") }
    let run = try Rel.run(
      ["-f", "-qq", "-y", "-s", "65535", "-e", "trace=\(trace)", "-o", log, CLI.binary] + arguments,
      outputIn: dir, timeout: timeout, executable: strace, environment: environment)
    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    return (run, RelCall.parse(text), text)
  }
}
