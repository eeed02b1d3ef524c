import MCPGenSystem
import SystemPackage

/// Whether the root's hooks may run: the commands in `config.json` (and the releases the checks
/// run from) come from the root, and run as the user running mcp-gen, usually root.
///
/// Like sshd's `StrictModes`: refused when `config.json`, the root, or any directory above the
/// root is owned by someone other than root or the running user, or is writable by group or
/// others (a directory above the root may be, with the sticky bit). Anyone who may write one of
/// them can replace the commands, or the whole root, and so run their own as root.
public enum ConfigTrust {
  /// Every problem with the root, the directories above it and its config; empty when there is
  /// none. The walk must end at the very directory `root` holds open, or the root was swapped
  /// meanwhile.
  public static func problems(_ root: DirectoryFD) throws(MCPGenError) -> [TrustProblem] {
    let doing = "check who may change the configuration of \(root.path.displayString)"
    let rootProblems = try problems(ofRoot: root, doing: doing)
    do throws(SystemCallError) {
      let config = try TrustedPath.walk(root.path.appending(bytes: Config.fileName)).problems
      return rootProblems + config.filter { p in !rootProblems.contains { $0.path == p.path && $0.kind == p.kind } }
    } catch where error.errno == .noSuchFileOrDirectory {
      return rootProblems
    } catch {
      throw MCPGenError(error, doing: doing)
    }
  }

  /// The problems of the root itself and every directory above it (`TrustedPath`, the root
  /// judged as the path itself: no sticky-bit exception). The walk must end at the very
  /// directory `root` holds open, or the root was swapped meanwhile (`.conflict`).
  static func problems(ofRoot root: DirectoryFD, doing: String) throws(MCPGenError) -> [TrustProblem] {
    let walked: (problems: [TrustProblem], resolved: FileInfo)
    let held: FileInfo
    do throws(SystemCallError) {
      walked = try TrustedPath.walk(root.path)
      held = try root.fstat()
    } catch {
      throw MCPGenError(error, doing: doing)
    }
    if walked.problems.isEmpty && (walked.resolved.device != held.device || walked.resolved.inode != held.inode) {
      throw MCPGenError(
        .conflict, "\(root.path.displayString) was replaced while mcp-gen used it; nothing was run or changed, find out who moved it",
        path: root.path)
    }
    return walked.problems
  }
}

extension Store {
  /// Refuses, before anything changes, to run the restart command or checks of `config` from a
  /// root that `ConfigTrust` finds others may change. Nothing to run, nothing to refuse.
  func requireTrustedHooks(_ config: Config) throws(MCPGenError) {
    guard config.hasHooks, let problem = try ConfigTrust.problems(root).first else { return }
    throw MCPGenError(
      .permission,
      "refusing to run the restart command and health checks: \(problem), so another user could change what runs as \(Clock.userName(Syscall.effectiveUserID())); nothing was changed (fix it, or pass --no-checks)",
      hint: problem.fix, path: problem.path)
  }
}
