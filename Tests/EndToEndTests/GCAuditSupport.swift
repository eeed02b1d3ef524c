import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Helpers for the gc, audit and marks tests: a root under a `Scratch`, release trees of our own,
/// corruption of stored files, and a byte-exact listing of a root.
final class GARoot: @unchecked Sendable {
  let scratch: Scratch
  let root: String

  init() throws {
    scratch = try Scratch()
    root = scratch.at("root")
  }

  func remove() { scratch.remove() }

  /// `mcp-gen ARGS --root ROOT`.
  @discardableResult
  func run(_ arguments: [String]) throws -> CLI.Output {
    try CLI.run(arguments + ["--root", root])
  }

  /// Runs and requires exit status 0.
  @discardableResult
  func ok(_ arguments: [String]) throws -> CLI.Output {
    try run(arguments).requireSuccess("mcp-gen \(arguments.joined(separator: " "))")
  }

  /// A release tree at `<scratch>/<name>`:
  ///
  ///     bin/mcp          0755, a shell script printing `version`
  ///     share/data.txt   "data <version>\n"
  ///     share/link    -> data.txt
  ///     share/BAD        (only when `bad`) "bad\n"
  ///     share/pad.bin    (only when `padding` > 0) that many bytes
  @discardableResult
  func release(_ name: String, _ version: String, bad: Bool = false, padding: Int = 0) throws -> String {
    let dir = scratch.at(name)
    let fm = FileManager.default
    try fm.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: dir + "/share", withIntermediateDirectories: true)
    try Data("#!/bin/sh\necho \(version)\n".utf8).write(to: URL(fileURLWithPath: dir + "/bin/mcp"))
    chmod(dir + "/bin/mcp", 0o755)
    try Data("data \(version)\n".utf8).write(to: URL(fileURLWithPath: dir + "/share/data.txt"))
    try fm.createSymbolicLink(atPath: dir + "/share/link", withDestinationPath: "data.txt")
    if bad { try Data("bad\n".utf8).write(to: URL(fileURLWithPath: dir + "/share/BAD")) }
    if padding > 0 {
      try Data(repeating: 0x61, count: padding).write(to: URL(fileURLWithPath: dir + "/share/pad.bin"))
    }
    return dir
  }

  /// Sum of the sizes of the regular files in a release tree (what its manifest counts).
  static func fileBytes(_ dir: String) throws -> Int {
    var total = 0
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: dir) else { throw E2EFailure("cannot walk \(dir)") }
    for case let rel as String in walker {
      var st = stat()
      guard lstat(dir + "/" + rel, &st) == 0 else { throw E2EFailure("lstat \(rel)") }
      if st.st_mode & S_IFMT == S_IFREG { total += Int(st.st_size) }
    }
    return total
  }

  /// The store key of a release (the coreutils oracle).
  func key(_ dir: String) throws -> String { try Oracle.key(dir) }

  func entry(_ key: String) -> String { root + "/store/" + key }

  /// Sorted generation numbers in `generations/`.
  func generations() throws -> [Int] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/generations")) ?? []
    return names.compactMap { Int($0) }.sorted()
  }

  /// The target of the symlink `relative` under the root, or nil.
  func linkTarget(_ relative: String) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + relative)
  }

  func storeNames() throws -> [String] { try scratch.storeNames(root) }

  func names(_ relative: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + relative)) ?? []).sorted()
  }

  /// `status --json` generation.
  func currentGeneration() throws -> Int? {
    let object = try GARoot.object(try ok(["status", "--json"]))
    return (object["generation"] as? NSNumber)?.intValue
  }

  static func object(_ out: CLI.Output) throws -> [String: Any] {
    guard let object = try Gen.json(out) as? [String: Any] else {
      throw E2EFailure("not a JSON object: \(out.stdoutText)")
    }
    return object
  }

  /// Runs `/bin/sh -c script sh ARGS...`; throws unless it exits 0.
  @discardableResult
  static func sh(_ script: String, _ arguments: String...) throws -> CLI.Output {
    try sh(script, arguments)
  }

  @discardableResult
  static func sh(_ script: String, _ arguments: [String]) throws -> CLI.Output {
    try ProcessRunner.run("/bin/sh", ["-c", script, "sh"] + arguments, environment: CLI.environment())
      .requireSuccess("sh -c \(script)")
  }

  /// Starts `/bin/sh -c script sh ARGS...` with stdio on /dev/null and returns at once; the
  /// caller waits with `wait()`.
  static func start(_ script: String, _ arguments: [String]) throws -> TestProcess {
    try TestProcess("/bin/sh", ["-c", script, "sh"] + arguments)
  }

  /// Makes a stored path changeable by root: clears the immutable flag and adds owner write
  /// permission. Symlinks carry no flags: unfreeze their directory to replace them.
  static func unfreeze(_ path: String) throws {
    if geteuid() == 0 { try sh("chattr -i -- \"$1\" 2>/dev/null || true", path) }
    try sh("chmod u+w -- \"$1\"", path)
  }

  /// Every path under `dir` with type, size, mode, symlink target, mtime, ctime and inode
  /// flags, plus the SHA-256 of every regular file: two equal listings mean nothing changed.
  static func listing(_ dir: String) throws -> String {
    let script = """
      cd "$1" || exit 1
      find . -printf '%P|%y|%s|%m|%l|%T@|%C@|%i\\n' | LC_ALL=C sort
      echo '--- contents'
      find . -type f -exec sha256sum {} + | LC_ALL=C sort
      echo '--- flags'
      find . \\( -type f -o -type d \\) -exec lsattr -d {} + 2>/dev/null | LC_ALL=C sort
      echo '--- lock'
      cat lock 2>/dev/null
      """
    return try sh(script, dir).stdoutText
  }
}

/// Takes `flock(LOCK_EX)` on a path for as long as it lives, like a live `add` holding its copy.
final class GAFlock: @unchecked Sendable {
  private var fd: Int32
  init(_ path: String) throws {
    fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw E2EFailure("open \(path): \(String(cString: strerror(errno)))") }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { throw E2EFailure("flock \(path): \(String(cString: strerror(errno)))") }
  }
  /// Closes the descriptor once (a second close could hit a number another thread reused).
  func release() {
    if fd >= 0 { close(fd) }
    fd = -1
  }
}
