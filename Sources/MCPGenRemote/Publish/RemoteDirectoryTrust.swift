import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Who may change the directory `publish` writes as root (store-layout.md section 4a, "Remotes").
///
/// Another user who may write the remote directory or a directory above it could swap
/// `metadata/` or `objects/<xx>/` for a symlink between two of root's writes and make root create
/// files anywhere, or change the metadata root reads back and signs. So the remote directory must
/// be trusted (`TrustedPath`: owned by root or the running user, writable by no one else, every
/// directory above it too, those with the sticky-bit exception), the walk must end at the very
/// directory opened, and below it no symlink is followed (`DirectoryFD` opens with
/// `RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH`) and every directory and file read is judged by the
/// same rule through its descriptor.
enum RemoteDirectoryTrust {
  /// Refuses `path`, which `directory` holds open, unless it is trusted and is that directory.
  static func require(_ directory: DirectoryFD, _ path: FilePath) throws(MCPGenError) {
    let walked = try publishStep("check who may change \(path.displayString)") { () throws(SystemCallError) in
      (try TrustedPath.walk(path), try directory.fstat())
    }
    if let problem = walked.0.problems.first { throw refusal(path, problem) }
    guard walked.0.resolved.device == walked.1.device, walked.0.resolved.inode == walked.1.inode else {
      throw MCPGenError(
        .conflict, "\(path.displayString) was replaced while mcp-gen used it; nothing was written, find out who moved it", path: path)
    }
  }

  /// For `publish init` of a directory that does not exist yet: the part of `path` that exists
  /// must be trusted as a parent (a sticky directory others may write passes: nobody can move
  /// what root makes in it) before anything is created below it.
  static func requireCreatable(_ path: FilePath) throws(MCPGenError) {
    let existing = existingPrefix(path.bytes)
    guard existing != path.bytes else { return }  // Judged whole once opened.
    let at = FilePath(bytes: existing)
    let problem = try publishStep("check who may change \(at.displayString)") { () throws(SystemCallError) in
      try TrustedPath.problem(at, lastIsParent: true)
    }
    if let problem { throw refusal(path, problem) }
  }

  /// Refuses a directory or file below the remote that is not trusted (`st`, status of what a
  /// descriptor holds): as the remote directory itself, no sticky-bit exception.
  static func requireInside(_ st: FileInfo, at: FilePath, remote: FilePath) throws(MCPGenError) {
    if let problem = TrustedPath.problems(of: st, at: at, last: true).first { throw refusal(remote, problem) }
  }

  /// Refuses `name` of `parent` when it is a symbolic link: a publish writes through none.
  static func refuseSymlink(_ name: [UInt8], in parent: DirectoryFD, remote: FilePath) throws(MCPGenError) {
    let at = parent.path.appending(bytes: name)
    let st = try publishStep("read \(at.displayString)") { () throws(SystemCallError) in try parent.statIfPresent(name) }
    guard let st, st.type == .symlink else { return }
    throw MCPGenError(
      .permission,
      "refusing remote directory \(remote.displayString): \(at.displayString) is a symbolic link (owner \(Clock.userName(st.uid))); a publish writes through no symlink, it could lead anywhere; nothing was written (remove the link, or publish to another directory)",
      hint: "rm \(Doctor.shellWord(at))", path: at)
  }

  static func refusal(_ remote: FilePath, _ problem: TrustProblem) -> MCPGenError {
    problem.refusal(
      "remote directory \(remote.displayString)", risk: { "swap its files for symlinks that make \($0) write anywhere, or change what \($0) signs" },
      outcome: "nothing was written")
  }

  /// The longest leading part of `path` that exists: `path` itself, a directory above it, or
  /// `.` for a relative path none of whose parts exists.
  static func existingPrefix(_ path: [UInt8]) -> [UInt8] {
    var candidate = path
    while true {
      if candidate.isEmpty { return [0x2E] }
      if exists(candidate) { return candidate }
      guard let slash = candidate.lastIndex(of: 0x2F) else { return [0x2E] }
      candidate = slash == 0 ? [0x2F] : Array(candidate[..<slash])
      while candidate.count > 1 && candidate.last == 0x2F { candidate.removeLast() }
    }
  }

  private static func exists(_ path: [UInt8]) -> Bool {
    if case .success = withCString(path, { Syscall.fstatat(Syscall.currentDirectoryFD, $0, follow: true) }) { return true }
    return false
  }
}
