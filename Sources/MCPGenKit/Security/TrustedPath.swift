import MCPGenSystem
import SystemPackage

/// The users whose files may decide what mcp-gen runs: root, the user running mcp-gen, and at
/// most one other user the operator named (`--allow-owner`).
public struct TrustedOwners: Sendable, Equatable {
  public private(set) var uids: [UInt32]

  /// Root and the running user.
  public static var current: TrustedOwners {
    let me = Syscall.effectiveUserID()
    return TrustedOwners(uids: me == 0 ? [0] : [0, me])
  }

  /// Root, the running user, and the user called `name` (`--allow-owner NAME`).
  public static func allowing(_ name: String) throws(MCPGenError) -> TrustedOwners {
    switch Syscall.userID(named: name) {
    case .success(let uid?):
      var owners = current
      if !owners.uids.contains(uid) { owners.uids.append(uid) }
      return owners
    case .success(nil):
      throw MCPGenError(.invalidInput, "--allow-owner: there is no user called '\(displayName(Array(name.utf8)))'; give a user name from /etc/passwd",
                        hint: "getent passwd")
    case .failure(let e):
      throw MCPGenError(.io, "--allow-owner: cannot look up user '\(displayName(Array(name.utf8)))': \(e.description); check the user database")
    }
  }

  public func trusts(_ uid: UInt32) -> Bool { uids.contains(uid) }

  /// "root", "root or alice", "root, alice or nobody".
  var names: String {
    let all = uids.map { Clock.userName($0) }
    return all.count == 1 ? all[0] : all.dropLast().joined(separator: ", ") + " or " + all.last!
  }
}

/// Why a path may not decide what mcp-gen runs: one of its components (the file, a parent
/// directory, or a symlink on the way) can be changed by a user mcp-gen does not trust.
public struct TrustProblem: Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// Owned by a user outside the trusted owners.
    case owner
    /// Writable by its group or by others (a directory: without the sticky bit).
    case writable
  }

  public var kind: Kind
  /// The component at fault, as reached (symlinks resolved up to it).
  public var path: FilePath
  public var uid: UInt32
  public var mode: UInt32
  /// Whom the owner should have been.
  public var owners: String

  /// "/srv/x is owned by nobody (uid 65534), not by root", "/srv is writable by others (mode 0777)".
  public var description: String {
    let shown = path.displayString
    switch kind {
    case .owner:
      return "\(shown) is owned by \(Clock.userName(uid)) (uid \(uid)), not by \(owners)"
    case .writable:
      let who = mode & 0o020 != 0 && mode & 0o002 != 0 ? "group and others" : (mode & 0o020 != 0 ? "its group" : "others")
      // A sticky directory is refused only where it is the path itself (no exception there).
      let sticky = FileKind(mode: mode) == .directory && mode & 0o1000 == 0 ? ", no sticky bit" : ""
      return "\(shown) is writable by \(who) (owner \(Clock.userName(uid)), mode \(Doctor.octal(mode))\(sticky))"
    }
  }

  /// The description with the mode for an owner problem too ("... not by root (mode 0644)"):
  /// the one line of the remote commands' refusals names owner and mode whatever the fault.
  public var withMode: String {
    kind == .owner ? "\(description) (mode \(Doctor.octal(mode)))" : description
  }

  /// The one refusal line of the remote commands: "refusing SUBJECT: PROBLEM; another user
  /// could RISK; OUTCOME (FIX)", exit 1, the fix as hint. `risk` is given the name of the user
  /// mcp-gen runs as: the one another user would fool.
  public func refusal(_ subject: String, risk: (String) -> String, outcome: String) -> MCPGenError {
    let me = Clock.userName(Syscall.effectiveUserID())
    return MCPGenError(.permission, "refusing \(subject): \(withMode); another user could \(risk(me)); \(outcome) (\(fix))", hint: fix, path: path)
  }

  /// The command that puts it right.
  public var fix: String {
    switch kind {
    case .owner: return "chown \(Clock.userName(Syscall.effectiveUserID())) \(Doctor.shellWord(path))"
    case .writable: return "chmod go-w \(Doctor.shellWord(path))"
    }
  }
}

/// Whether a path is safe to take commands from, in the sense of sshd's `StrictModes`: the file
/// and every directory from `/` down to it are owned by a trusted user and writable by nobody
/// else. A parent directory that others may write to is accepted only with the sticky bit (like
/// `/tmp`): there, nobody can rename or remove what a trusted user put in it. The last component
/// itself never gets that exception, since a writable root or git directory would let others
/// create the files mcp-gen reads from it (`config.json`, a git `commondir`).
///
/// Why every parent: whoever may write to a directory can replace anything below it by renaming,
/// whatever the modes further down say. Why symlinks too: a symlink is replaced by whoever may
/// write its directory, or (in a sticky directory) by its owner, and its target has parents of its
/// own; so a symlink must be owned by a trusted user and its target is walked like the rest.
///
/// The walk is descriptor-relative: each component is opened with `O_PATH | O_NOFOLLOW` from the
/// directory before it and judged by `fstat` of what was opened, so a path changed mid-walk is
/// judged as it was when it was reached, never re-resolved. ACLs are not read (neither does sshd).
public enum TrustedPath {
  /// How many symlinks one walk follows before giving up with ELOOP, as the kernel does.
  static let maximumLinks = 40

  /// The first problem on the way to `path` (made absolute), or nil when every component passes.
  /// A component that does not exist is a `SystemCallError` (ENOENT), as for `open`.
  public static func problem(_ path: FilePath, owners: TrustedOwners = .current, lastIsParent: Bool = false) throws(SystemCallError) -> TrustProblem? {
    try walk(path, owners: owners, lastIsParent: lastIsParent).problems.first
  }

  /// Every problem on the way to `path` (the walk goes on past them, for `doctor` to list each
  /// fix), and the status of what `path` resolved to, so a caller holding a descriptor opened
  /// earlier can tell that the walk judged that very inode.
  ///
  /// With `lastIsParent`, what `path` names is judged as a directory above something else (a
  /// sticky directory others may write passes): for a directory mcp-gen will create a file in,
  /// such as the one of a new key file.
  public static func walk(
    _ path: FilePath, owners: TrustedOwners = .current, lastIsParent: Bool = false
  ) throws(SystemCallError) -> (problems: [TrustProblem], resolved: FileInfo) {
    let walked = try walk(path, owners: owners, lastIsParent: lastIsParent, openForReading: false)
    return (walked.problems, walked.resolved)
  }

  /// Walks `path` as `walk` does and, when it ends at a regular file, opens that very file for
  /// reading (`O_NOFOLLOW | O_NONBLOCK`, from the directory descriptor the walk reached it by,
  /// and only if `fstat` finds the inode the walk judged): the bytes a caller reads are those of
  /// the file judged, with no second resolution of the path in between. `file` is nil when the
  /// path ends at something else (`resolved` says what).
  public static func openForReading(
    _ path: FilePath, owners: TrustedOwners = .current
  ) throws(SystemCallError) -> (problems: [TrustProblem], resolved: FileInfo, file: FileFD?) {
    try walk(path, owners: owners, lastIsParent: false, openForReading: true)
  }

  /// Why the file or directory whose status is `st` may not decide what mcp-gen runs, by the
  /// rule above: an owner outside `owners`, or write permission for group or others (forgiven a
  /// sticky directory unless it is `last`, the path itself). For callers that hold a descriptor
  /// already and judge what it refers to, as the walk does for each component.
  public static func problems(of st: FileInfo, at path: FilePath, last: Bool, owners: TrustedOwners = .current) -> [TrustProblem] {
    var problems: [TrustProblem] = []
    if !owners.trusts(st.uid) {
      problems.append(TrustProblem(kind: .owner, path: path, uid: st.uid, mode: st.mode, owners: owners.names))
    }
    if st.type == .symlink { return problems }  // A symlink's own mode is always 0777 and never used.
    let stickyDirectory = st.type == .directory && st.permissions.contains(.saveText) && !last
    if st.mode & 0o022 != 0 && !stickyDirectory {
      problems.append(TrustProblem(kind: .writable, path: path, uid: st.uid, mode: st.mode, owners: owners.names))
    }
    return problems
  }

  private static func walk(
    _ path: FilePath, owners: TrustedOwners, lastIsParent: Bool, openForReading: Bool
  ) throws(SystemCallError) -> (problems: [TrustProblem], resolved: FileInfo, file: FileFD?) {
    let absolute = absolutePath(path).bytes
    var pending = components(absolute).reversed() as [[UInt8]]
    var walked: [[UInt8]] = []
    var links = 0
    var directory = try openRoot(path)
    defer { _ = Syscall.close(directory) }

    func shown(_ extra: [UInt8]? = nil) -> FilePath {
      let all = walked + (extra.map { [$0] } ?? [])
      return FilePath(bytes: [0x2F] + Array(all.joined(separator: [0x2F])))
    }
    var problems: [TrustProblem] = []
    func judge(_ st: FileInfo, at where_: FilePath, last: Bool) {
      problems += Self.problems(of: st, at: where_, last: last && !lastIsParent, owners: owners)
    }
    var file: FileFD? = nil

    let rootStatus = try Syscall.fstat(directory).get("fstat", FilePath("/"))
    judge(rootStatus, at: FilePath("/"), last: pending.isEmpty)
    // What the components so far resolved to.
    var resolved = rootStatus

    while let component = pending.popLast() {
      if component == [0x2E] { continue }
      let opened = try withCString(component) { (p) throws(SystemCallError) in
        try Syscall.openat(directory, p, [.pathOnly, .noFollow, .closeOnExec]).get("open", shown(component))
      }
      if component == [0x2E, 0x2E] {
        // The parent of a directory reached from / was judged on the way down; judged again
        // only as the last component, which gets no sticky-bit exception.
        _ = walked.popLast()
        _ = Syscall.close(directory)
        directory = opened
        resolved = try Syscall.fstat(directory).get("fstat", shown())
        if pending.isEmpty { judge(resolved, at: shown(), last: true) }
        continue
      }
      var keep = false
      defer { if !keep { _ = Syscall.close(opened) } }
      let st = try Syscall.fstat(opened).get("fstat", shown(component))
      let here = shown(component)
      let last = pending.isEmpty
      judge(st, at: here, last: last)
      switch st.type {
      case .symlink:
        links += 1
        if links > maximumLinks { throw SystemCallError("open", path: path, errno: .tooManySymbolicLinkLevels) }
        // readlinkat with an empty name reads the link the O_PATH descriptor holds.
        let target = try withCString([]) { (p) throws(SystemCallError) in
          try Syscall.readlinkat(opened, p).get("readlinkat", here)
        }
        if target.isEmpty { throw SystemCallError("readlinkat", path: here, errno: .noSuchFileOrDirectory) }
        pending += components(target).reversed()
        if target.first == 0x2F {
          _ = Syscall.close(directory)
          directory = try openRoot(path)
          walked = []
          resolved = rootStatus
        }
      case .directory:
        walked.append(component)
        _ = Syscall.close(directory)
        directory = opened
        keep = true
        resolved = st
      default:
        guard last else { throw SystemCallError("open", path: here, errno: .notDirectory) }
        resolved = st
        if openForReading && st.type == .regular {
          file = try reopen(component, in: directory, judged: st, at: here)
        }
      }
    }
    return (problems, resolved, file)
  }

  /// `component` of `directory` opened for reading, provided it is still the inode `judged`
  /// (a rename between the `O_PATH` open and this one is refused with ESTALE, never read).
  private static func reopen(_ component: [UInt8], in directory: CInt, judged: FileInfo, at here: FilePath) throws(SystemCallError) -> FileFD {
    let fd = try withCString(component) { (p) throws(SystemCallError) in
      try Syscall.openat(directory, p, [.readOnly, .noFollow, .nonBlocking, .closeOnExec]).get("open", here)
    }
    let file = FileFD(fd: fd, path: here)
    let st = try file.stat()
    guard st.device == judged.device, st.inode == judged.inode else {
      throw SystemCallError("open", path: here, errno: .staleNFSFileHandle)
    }
    return file
  }

  /// Like `problem`, but a path that does not exist is no problem (nil): nothing can be read
  /// from it. Its parent directories are what keep anyone else from creating it, so callers check
  /// those separately.
  public static func problemIfPresent(_ path: FilePath, owners: TrustedOwners = .current) throws(SystemCallError) -> TrustProblem? {
    do {
      return try problem(path, owners: owners)
    } catch let e where e.errno == .noSuchFileOrDirectory {
      return nil
    }
  }

  private static func openRoot(_ path: FilePath) throws(SystemCallError) -> CInt {
    try withCString([0x2F]) { (p) throws(SystemCallError) in
      try Syscall.openat(Syscall.currentDirectoryFD, p, [.pathOnly, .directory, .closeOnExec]).get("open", FilePath("/"))
    }
  }

  private static func components(_ bytes: [UInt8]) -> [[UInt8]] {
    bytes.split(separator: 0x2F, omittingEmptySubsequences: true).map(Array.init)
  }
}
