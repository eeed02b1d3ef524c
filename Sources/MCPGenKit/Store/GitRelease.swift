import MCPGenSystem
import SystemPackage

/// A release taken from a git repository at a tag, branch or commit, read with `git archive`
/// (no working tree, no checkout).
///
/// `resolve` pins the ref to one commit before anything is written, so a tag moved meanwhile
/// cannot make `add` store something other than what it names in the journal.
public struct GitRelease: Sendable {
  /// The repository as given, made absolute.
  public var repository: FilePath
  public var ref: String
  /// The commit `ref` resolved to (full hex object name).
  public var commit: String
  /// What git is told to read: `<repository>/.git` for a clone, the repository itself when bare.
  let gitDirectory: FilePath

  /// What `add` and `switch` record as the release's source: `REPO@REF (COMMIT)`.
  public var sourceLabel: [UInt8] {
    repository.bytes + Array("@\(ref) (\(commit))".utf8)
  }

  /// Resolves `ref` to a commit of `repository` with `git rev-parse --verify REF^{commit}`.
  /// Writes nothing.
  ///
  /// Refused, before git runs at all, unless everything git reads from the repository is owned
  /// by `owners` and writable by no one else (`GitTrust`): git runs the programs the repository's
  /// own configuration names (a smudge filter, for one) and cannot be told to ignore it.
  public static func resolve(repository: FilePath, ref: String, owners: TrustedOwners = .current) throws(MCPGenError) -> GitRelease {
    let repo = absolutePath(repository)
    let shown = repo.displayString
    if ref.isEmpty || ref.hasPrefix("-") || ref.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
      throw MCPGenError(
        .invalidInput,
        "'\(displayName(Array(ref.utf8)))' is not a git ref: give a tag, branch or commit (it may not be empty or start with -)",
        hint: "git -C \(shown) tag --list")
    }
    do {
      _ = try DirectoryFD.open(repo)
    } catch let e where e.errno == .noSuchFileOrDirectory {
      throw MCPGenError(.notFound, "git repository \(shown) does not exist; check the path", path: repo, cause: e)
    } catch let e where e.errno == .notDirectory {
      throw MCPGenError(
        .invalidInput, "\(shown) is not a git repository (not a directory); give a clone's directory or a bare repository",
        path: repo, cause: e)
    } catch {
      throw MCPGenError(error, doing: "open the git repository")
    }
    let gitDirectory = try GitTrust.requireTrusted(repo, owners: owners)

    let finished = try runGit(["rev-parse", "--verify", "--quiet", "\(ref)^{commit}"], gitDirectory)
    switch finished.status {
    case .exited(0):
      break
    case .exited(1):
      // --quiet: the repository was read, the name matched no commit.
      throw MCPGenError(
        .notFound, "'\(ref)' is not a tag, branch or commit of \(shown); nothing was added",
        hint: "git -C \(shown) tag --list", path: repo)
    default:
      let why = finished.lastErrorLine ?? "git rev-parse \(finished.statusText)"
      throw MCPGenError(
        .invalidInput,
        "cannot read \(shown) as a git repository (\(why)); give a clone's directory or a bare repository",
        hint: "git -C \(shown) status", path: repo)
    }
    let commit = String(decoding: finished.output, as: UTF8.self).trimmingSuffix(while: { $0 == "\n" })
    guard [40, 64].contains(commit.utf8.count), commit.utf8.allSatisfy(Self.isLowerHex) else {
      throw MCPGenError(.io, "git rev-parse printed '\(displayName(finished.output))' for '\(ref)' in \(shown), not a commit id; check the git installation")
    }
    return GitRelease(repository: repo, ref: ref, commit: commit, gitDirectory: gitDirectory)
  }

  private static func isLowerHex(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) }

  /// Variables removed from git's environment: every `GIT_*` one (they can name another
  /// repository, index or object directory, add configuration through `GIT_CONFIG_PARAMETERS` or
  /// `GIT_CONFIG_COUNT`, or name programs: `GIT_EXEC_PATH`, `GIT_SSH_COMMAND`, `GIT_ASKPASS`), and
  /// the ones that locate a user's own git configuration and attributes.
  static var gitEnvironment: [String] {
    ["HOME", "XDG_CONFIG_HOME"] + Syscall.environmentNames().filter { $0.hasPrefix("GIT_") }
  }

  /// Set in git's environment: no system-wide or per-user configuration or attributes (only the
  /// repository's own config, whose owner `GitTrust` vouched for, can name a program), no
  /// replacement objects (the tree stored is the commit's), never a prompt.
  static let gitSettings: [String: String] = [
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_ATTR_NOSYSTEM": "1",
    "GIT_NO_REPLACE_OBJECTS": "1", "GIT_TERMINAL_PROMPT": "0",
  ]

  /// `-c` settings that override the repository's: a fixed `tar.umask` so archive modes never
  /// depend on its config (only the executable bit matters to the key, but a umask could clear
  /// it); no hooks, no file-system monitor program, no transport (a local read needs none), and
  /// no attributes file outside the repository.
  static let gitOverrides = [
    "tar.umask=0022", "core.hooksPath=/dev/null", "core.fsmonitor=false", "protocol.allow=never",
    "core.attributesFile=/dev/null",
  ]

  /// `git -c ... --git-dir=DIR ARGS...`.
  static func gitArguments(_ arguments: [String], _ gitDirectory: FilePath) -> [[UInt8]] {
    gitOverrides.flatMap { [Array("-c".utf8), Array($0.utf8)] } + [Array("--git-dir=".utf8) + gitDirectory.bytes]
      + arguments.map { Array($0.utf8) }
  }

  static func runGit(_ arguments: [String], _ gitDirectory: FilePath) throws(MCPGenError) -> ChildProcess.Finished {
    switch ChildProcess.run(gitSpec(gitArguments(arguments, gitDirectory))) {
    case .success(let finished): return finished
    case .failure(let failure): throw failure.error
    }
  }

  /// git, in mcp-gen's process group, without the environment that would redirect it.
  static func gitSpec(_ arguments: [[UInt8]]) -> ChildProcess.Spec {
    var spec = ChildProcess.Spec(.name("git"), arguments)
    spec.removingFromEnvironment = gitEnvironment
    spec.settingEnvironment = gitSettings
    return spec
  }
}

extension ChildProcess.StartFailure {
  var error: MCPGenError {
    switch self {
    case .notInstalled(let program):
      return MCPGenError(
        .notFound, "\(program) is not installed (no \(program) on PATH); install it, or add the release from a directory",
        hint: "apt-get install \(program)")
    case .couldNotStart(let program, let why):
      return MCPGenError(.io, "cannot start \(program): \(why); check the \(program) installation and run the command again")
    }
  }
}

extension Store {
  /// Stores the tree of `release.commit`, as `add` stores a directory, and journals its source
  /// as `REPO@REF (COMMIT)` and its label: `label`, else the tag the ref names.
  public func add(_ release: GitRelease, label: ReleaseLabel? = nil) throws(MCPGenError) -> AddResult {
    let label = label ?? release.tagLabel()
    return try withExtracted(release) { (tree) throws(MCPGenError) in
      try add(tree, journaled: true, recordedSource: release.sourceLabel, label: label)
    }
  }

  /// Makes the tree of `release.commit` current, as `switchTo(.path(...))` does.
  public func switchTo(
    _ release: GitRelease, expect: String? = nil, dryRun: Bool = false, config: Config = Config(), force: Bool = false,
    label: ReleaseLabel? = nil
  ) throws(MCPGenError) -> SwitchOutcome {
    let label = label ?? release.tagLabel()
    return try withExtracted(release) { (tree) throws(MCPGenError) in
      try switchTo(.path(tree), expect: expect, dryRun: dryRun, config: config, force: force, recordedSource: release.sourceLabel, label: label)
    }
  }

  /// Extracts the commit into a fresh `store/.tmp-<pid>-<random>` directory, runs `body` on it,
  /// and removes it.
  ///
  /// The directory is created exclusively and flocked for as long as it exists, exactly like
  /// the temporary copy of an `add`: gc and audit see a live temporary while this process runs,
  /// and a leftover to remove once it is dead (a kill or crash mid-extraction leaves only that).
  /// Nothing is written outside it, and nothing under /tmp.
  func withExtracted<R>(_ release: GitRelease, _ body: (FilePath) throws(MCPGenError) -> R) throws(MCPGenError) -> R {
    let name = Store.temporaryName()
    let dir = try attempt("create a temporary directory for the git tree") { () throws(SystemCallError) in
      try entries.makeDirectory(name, mode: 0o700)
      let d = try entries.openDirectory(name)
      try Syscall.flock(d.fd, LockOperation.exclusive).get("flock", d.path)
      return d
    }
    defer {
      // A removal that fails leaves an unlocked temporary: gc removes it, audit reports it.
      try? TreeRemover.remove(name, in: entries)
      withExtendedLifetime(dir) {}
    }
    try extract(release, into: dir.path)
    // The tree's root is this 0700 temporary, not a directory of the commit: give it the mode
    // git gives directories, or `add` would take it for a private one.
    try attempt("open the git tree") { () throws(SystemCallError) in try dir.changeMode(0o755) }
    return try body(dir.path)
  }

  /// `git archive --format=tar COMMIT | tar -x -p -f - -C DIR`, both run directly (no shell),
  /// connected by a pipe.
  private func extract(_ release: GitRelease, into directory: FilePath) throws(MCPGenError) {
    let (readEnd, writeEnd) = try attempt("create a pipe for git archive") { () throws(SystemCallError) in
      try Syscall.pipe().get("pipe2", nil)
    }
    let archive = GitRelease.gitArguments(["archive", "--format=tar", release.commit], release.gitDirectory)
    let unpack = [Array("-x".utf8), Array("-p".utf8), Array("-f".utf8), Array("-".utf8), Array("-C".utf8), directory.bytes]
    let git = ChildProcess.HandedDescriptor(writeEnd)
    let tar = ChildProcess.HandedDescriptor(readEnd)
    var archiving = GitRelease.gitSpec(archive)
    archiving.output = git
    var unpacking = ChildProcess.Spec(.name("tar"), unpack)
    unpacking.input = tar
    let outcome = ChildProcess.run([archiving, unpacking])
    // Both ends are closed by now (by each run); closing again is a no-op.
    git.close()
    tar.close()
    let what = "\(release.ref) (\(release.commit.prefix(12))) of \(release.repository.displayString)"
    let (archived, unpacked) = (outcome[0], outcome[1])
    let gitDone: ChildProcess.Finished
    switch archived {
    case .success(let f): gitDone = f
    case .failure(let failure): throw failure.error
    }
    let tarDone: ChildProcess.Finished
    switch unpacked {
    case .success(let f): tarDone = f
    case .failure(let failure): throw failure.error
    }
    let gitText = "git archive \(gitDone.statusText): \(gitDone.lastErrorLine ?? "no message")"
    let tarText = "tar \(tarDone.statusText): \(tarDone.firstErrorLine ?? "no message")"
    // When both fail, either can be the cause (a broken archive, or a full disk closing the pipe).
    let why: String
    switch (gitDone.succeeded, tarDone.succeeded) {
    case (true, true): return
    case (false, true): why = gitText
    case (true, false): why = tarText
    case (false, false): why = "\(gitText); \(tarText)"
    }
    throw MCPGenError(.io, "cannot extract \(what): \(why); nothing was added, fix that and run the command again")
  }
}

extension String {
  func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
    var s = Substring(self)
    while let last = s.last, predicate(last) { s = s.dropLast() }
    return String(s)
  }
}
