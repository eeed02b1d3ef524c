import MCPGenSystem
import SystemPackage

/// Which git repositories `add --git` and `switch --git` read.
///
/// Git runs programs that a repository's own configuration names (a `filter.*.smudge` that a
/// committed `.gitattributes` selects runs during `git archive`) and has no way to ignore that
/// configuration; `--git-dir` also skips git's `safe.directory` ownership check. So the repository
/// is refused unless everything git reads from it passes `TrustedPath`: the repository directory,
/// the git directory (`.git`, the target of a `.git` file, or the bare repository itself), its
/// `config`, `config.worktree`, `info/`, `info/attributes`, `objects/info/alternates`, `commondir`
/// and the directory it names with the same files, each with all its parents. A file that does not
/// exist is fine: its directory, which must pass, keeps anyone else from creating it.
enum GitTrust {
  /// Files and directories of a git directory whose content can name a program or change what
  /// git reads, relative to it.
  static let read: [[UInt8]] = [
    "config", "config.worktree", "info", "info/attributes", "objects", "objects/info", "objects/info/alternates",
    "commondir",
  ].map { Array($0.utf8) }

  /// Checks `repository` and returns the git directory to hand git as `--git-dir`: the one that
  /// was checked, so a `.git` file is read once, here.
  static func requireTrusted(_ repository: FilePath, owners: TrustedOwners) throws(MCPGenError) -> FilePath {
    try require(repository, repository, owners)
    let dotGit = repository.appending(bytes: Array(".git".utf8))
    let gitDirectory: FilePath
    switch try status(dotGit, repository) {
    case nil:
      gitDirectory = repository  // A bare repository.
    case let st? where st.type == .directory:
      try require(dotGit, repository, owners)
      gitDirectory = dotGit
    case _?:
      // A `.git` file (a linked worktree or a submodule): `gitdir: PATH`, relative to the repository.
      try require(dotGit, repository, owners)
      gitDirectory = try linkedDirectory(dotGit, in: repository, prefix: "gitdir: ", repository)
      try require(gitDirectory, repository, owners)
    }
    try requireContents(of: gitDirectory, repository, owners)
    let commondir = gitDirectory.appending(bytes: Array("commondir".utf8))
    if try status(commondir, repository) != nil {
      let common = try linkedDirectory(commondir, in: gitDirectory, prefix: "", repository)
      try require(common, repository, owners)
      try requireContents(of: common, repository, owners)
    }
    return gitDirectory
  }

  private static func requireContents(of gitDirectory: FilePath, _ repository: FilePath, _ owners: TrustedOwners) throws(MCPGenError) {
    for name in read {
      let path = gitDirectory.appending(bytes: name)
      let problem: TrustProblem?
      do {
        problem = try TrustedPath.problemIfPresent(path, owners: owners)
      } catch {
        throw MCPGenError(error, doing: "check who owns git repository \(repository.displayString)")
      }
      if let problem { throw refusal(repository, problem) }
    }
  }

  private static func require(_ path: FilePath, _ repository: FilePath, _ owners: TrustedOwners) throws(MCPGenError) {
    let problem: TrustProblem?
    do {
      problem = try TrustedPath.problem(path, owners: owners)
    } catch {
      throw MCPGenError(error, doing: "check who owns git repository \(repository.displayString)")
    }
    if let problem { throw refusal(repository, problem) }
  }

  /// The one-line refusal: the component at fault, its owner and mode, and the two ways out.
  static func refusal(_ repository: FilePath, _ problem: TrustProblem) -> MCPGenError {
    let me = Clock.userName(Syscall.effectiveUserID())
    let way = problem.kind == .owner
      ? "pass --allow-owner \(Clock.userName(problem.uid)) if you trust that user to run commands as \(me)"
      : "make it writable by its owner only"
    // Inside the repository, its other files are most likely the same user's too.
    let at = problem.path.bytes
    let inside = problem.kind == .owner && (at == repository.bytes || at.starts(with: repository.bytes + [0x2F]))
    return MCPGenError(
      .permission,
      "refusing git repository \(repository.displayString): \(problem); its git configuration could run commands as \(me); nothing was added (\(way))",
      hint: inside ? "chown -R \(me) \(Doctor.shellWord(repository))" : problem.fix, path: problem.path)
  }

  /// What is at `path` (symlinks followed), nil when nothing is.
  private static func status(_ path: FilePath, _ repository: FilePath) throws(MCPGenError) -> FileInfo? {
    switch withCString(path.bytes, { Syscall.fstatat(Syscall.currentDirectoryFD, $0, follow: true) }) {
    case .success(let st): return st
    case .failure(let e) where e == .noSuchFileOrDirectory: return nil
    case .failure(let e):
      throw MCPGenError(SystemCallError("stat", path: path, errno: e), doing: "read git repository \(repository.displayString)")
    }
  }

  /// The directory a one-line file names (`.git`: `gitdir: PATH`; `commondir`: `PATH`), made
  /// absolute against `base` as git does.
  private static func linkedDirectory(_ file: FilePath, in base: FilePath, prefix: String, _ repository: FilePath) throws(MCPGenError) -> FilePath {
    let bytes: [UInt8]
    do throws(SystemCallError) {
      let directory = try DirectoryFD.open(base)
      let name = splitLast(file.bytes).name
      let handle = try directory.openFile(name, flags: [.readOnly, .nonBlocking])
      guard try handle.stat().type == .regular else {
        throw SystemCallError("open", path: file, errno: .invalidArgument)
      }
      bytes = try handle.readAll()
    } catch {
      throw MCPGenError(error, doing: "read git repository \(repository.displayString)")
    }
    var line = Array(bytes.prefix { $0 != 0x0A })
    while let last = line.last, last == 0x0D || last == 0x20 || last == 0x09 { line.removeLast() }
    let head = Array(prefix.utf8)
    guard line.starts(with: head), line.count > head.count, !line.contains(0) else {
      throw MCPGenError(
        .invalidInput,
        "cannot read \(repository.displayString) as a git repository (\(file.displayString) does not name a git directory); give a clone's directory or a bare repository",
        path: file)
    }
    let target = Array(line[head.count...])
    return target.first == 0x2F ? FilePath(bytes: target) : base.appending(bytes: target)
  }
}
