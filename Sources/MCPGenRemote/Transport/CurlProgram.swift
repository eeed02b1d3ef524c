import MCPGenKit
import MCPGenSystem
import SystemPackage

/// The `curl` program mcp-gen runs, and how it runs it.
///
/// mcp-gen runs as root, so the curl it runs is found only in fixed system directories (never
/// through the caller's `PATH`) and must pass `TrustedPath` like git's configuration does: a curl
/// that another user can replace would run as root. It gets a clean environment (only the proxy
/// variables and `CURL_CA_BUNDLE` pass: they are how an operator reaches the remote, through a
/// proxy or over HTTPS signed by a private CA) and `-q` first, so no `.curlrc`
/// can add options; `--proto` keeps it to http, https and file (a redirect: http and https only).
public struct CurlProgram: Sendable {
  /// Where curl is looked for, in order.
  public static let searchPath: [FilePath] = ["/usr/bin/curl", "/usr/local/bin/curl", "/bin/curl"]

  /// The environment variables handed to curl: the proxy settings, nothing else. curl ignores an
  /// upper-case `HTTP_PROXY` on purpose (a CGI request header could set it), so that stays out.
  public static let proxyVariables = ["http_proxy", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "ALL_PROXY", "all_proxy"]

  /// The CA certificates curl checks an HTTPS server against, when not the system's. TLS only
  /// decides who answers: every byte is still checked against signed metadata.
  public static let certificateVariables = ["CURL_CA_BUNDLE"]

  /// Every variable curl may get from this process's environment.
  public static var passedVariables: [String] { proxyVariables + certificateVariables }

  public let path: FilePath
  /// The variables curl gets (`passedVariables` only); nil: those of this process's environment
  /// when curl starts.
  /// Tests give their own instead of changing the environment every other test shares.
  public var proxyEnvironment: [String: String]? = nil

  /// The first trusted curl of `searchPath`, or the one at `path`, checked.
  public init(path: FilePath? = nil, owners: TrustedOwners = .current) throws(MCPGenError) {
    let candidates = path.map { [$0] } ?? Self.searchPath
    for candidate in candidates {
      let problem: TrustProblem?
      do {
        problem = try TrustedPath.problem(candidate, owners: owners)
      } catch where error.errno == .noSuchFileOrDirectory && path == nil {
        continue
      } catch {
        throw MCPGenError(error, doing: "check the curl program \(candidate.displayString)")
      }
      if let problem {
        throw MCPGenError(
          .permission,
          "refusing to run \(candidate.displayString): \(problem); it would run as \(Clock.userName(Syscall.effectiveUserID())); reinstall curl (apt-get install --reinstall curl)",
          hint: problem.fix, path: problem.path)
      }
      self.path = candidate
      return
    }
    throw MCPGenError(
      .notFound, "curl is not installed (no \(Self.searchPath.map(\.string).joined(separator: ", "))); install it to reach a remote",
      hint: "apt-get install curl")
  }

  /// The variables curl gets: `proxyEnvironment`, else those of this process that are set.
  func environment() -> [String: String] {
    if let proxyEnvironment { return proxyEnvironment.filter { Self.passedVariables.contains($0.key) } }
    var env: [String: String] = [:]
    for name in Self.passedVariables {
      if let value = environmentValue(name) { env[name] = value }
    }
    return env
  }

  /// Options of every transfer, as (long option name, value) pairs: on the command line of a
  /// single fetch, and in the configuration of each transfer of a batch. `-q`, which must be the
  /// very first argument to skip `.curlrc`, is not one of them.
  static func transferOptions(_ options: CurlFetcher.Options) -> [(String, String?)] {
    [
      ("silent", nil), ("show-error", nil), ("fail", nil), ("location", nil), ("max-redirs", "5"),
      ("proto", "=http,https,file"), ("proto-redir", "=http,https"),
      ("connect-timeout", String(options.connectTimeout)),
      ("speed-limit", String(options.lowSpeedLimit)), ("speed-time", String(options.lowSpeedTime)),
      ("globoff", nil),
    ]
  }

  /// `transferOptions` as the command-line arguments of one transfer (after `-q`, or `--next`).
  static func transferArguments(_ options: CurlFetcher.Options) -> [String] {
    ["--no-progress-meter"] + transferOptions(options).flatMap { name, value in ["--" + name] + (value.map { [$0] } ?? []) }
  }
}
