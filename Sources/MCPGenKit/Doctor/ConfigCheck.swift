import MCPGenSystem
import SystemPackage

/// `config.json` and who may change it: the two reasons `check`, `switch` and `rollback` would
/// refuse to run the configured commands, found before they are needed.
enum ConfigCheck {
  /// `trust`: the root, every directory above it, `config.json`, and `remotes/` with each
  /// remote's directory and files are owned by root or the running user and writable by no one
  /// else (`ConfigTrust`, `RemoteTrust`); each problem with its fix.
  static func trust(_ root: DirectoryFD) -> DoctorFinding {
    let problems: [TrustProblem]
    let remoteProblems: [TrustProblem]
    let hasRemotes: Bool
    do {
      problems = try ConfigTrust.problems(root)
      // The root's own problems are ConfigTrust's already.
      remoteProblems = try RemoteTrust.problems(root, remotes: nil).filter { p in !problems.contains { $0.path == p.path && $0.kind == p.kind } }
      hasRemotes = (try? root.statIfPresent(Store.remotesName)) != nil
    } catch {
      return DoctorFinding("trust", .problem, error.message, hint: error.hint ?? "run as a user who may read the root and its parents")
    }
    if problems.isEmpty && remoteProblems.isEmpty {
      return DoctorFinding(
        "trust", .ok,
        "the root, the directories above it, config.json\(hasRemotes ? " and remotes/" : "") can be changed only by \(TrustedOwners.current.names)")
    }
    let all = problems + remoteProblems
    var fixes: [String] = []
    for p in all where !fixes.contains(p.fix) { fixes.append(p.fix) }
    var refused: [String] = []
    if !problems.isEmpty { refused.append("the restart command and checks will not run") }
    // A problem of the root or above it (not of config.json) stops pulls too.
    let config = root.path.appending(bytes: Config.fileName)
    if !remoteProblems.isEmpty || (hasRemotes && problems.contains { $0.path != config }) { refused.append("pull and remote list will refuse the remotes") }
    return DoctorFinding(
      "trust", .problem,
      all.map(\.description).joined(separator: "; ") + "; " + refused.joined(separator: " and ") + " until this is fixed",
      hint: fixes.joined(separator: "; "))
  }

  /// `config`: `config.json` parses (or is absent: defaults apply).
  static func parse(_ root: DirectoryFD) -> DoctorFinding {
    let path = root.path.appending(bytes: Config.fileName)
    let bytes: [UInt8]
    do {
      // O_NONBLOCK: a FIFO put there must not hang the doctor.
      let file = try root.openFile(Config.fileName, flags: [.readOnly, .nonBlocking])
      guard try file.stat().type == .regular else {
        return DoctorFinding("config", .problem, "\(path.displayString) is not a regular file",
                             hint: "mv \(Doctor.shellWord(path)) \(Doctor.shellWord(path)).broken; mcp-gen config --init")
      }
      bytes = try file.readAll()
    } catch let e where e.errno == .noSuchFileOrDirectory {
      return DoctorFinding("config", .ok, "no config.json: no health checks, no restart command (mcp-gen config --init writes an example)")
    } catch let e where e.errno == .tooManySymbolicLinkLevels {
      return DoctorFinding("config", .problem, "\(path.displayString) is a symlink, which mcp-gen does not follow",
                           hint: "replace it with the file it points to")
    } catch {
      return DoctorFinding("config", .problem, "cannot read \(path.displayString): \(error.errno.description)",
                           hint: "run as a user who may read the root")
    }
    do {
      let config = try Config.parse(bytes, path: path)
      let checks = config.checks.count + config.advisoryChecks.count
      return DoctorFinding("config", .ok, "\(path.displayString): \(checks) check\(checks == 1 ? "" : "s"), \(config.restart == nil ? "no" : "a") restart command")
    } catch {
      let moved = Doctor.shellWord(FilePath(bytes: path.bytes + Array(".broken".utf8)))
      return DoctorFinding(
        "config", .problem, error.message,
        hint: "edit \(Doctor.shellWord(path)) where the message says, or start again: mv \(Doctor.shellWord(path)) \(moved); mcp-gen config --root \(Doctor.shellWord(root.path)) --init")
    }
  }
}
