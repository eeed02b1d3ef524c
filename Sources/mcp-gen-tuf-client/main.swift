// The tuf-conformance suite's client under test (issue 20; the protocol is the suite's
// CLIENT-CLI.md): options first, the verb last, exit 0 on full success and 1 on any failure.
//
//   mcp-gen-tuf-client --metadata-dir DIR init TRUSTED_ROOT
//   mcp-gen-tuf-client --metadata-dir DIR --metadata-url URL refresh
//   mcp-gen-tuf-client --metadata-dir DIR --metadata-url URL --target-name PATH [--target-name PATH ...]
//                      --target-base-url URL --target-dir DIR download
//
// "Now" comes from libc's clock (clock_gettime through MCPGenKit's Clock), and this executable
// is linked dynamically, so libfaketime moves it: the suite runs `faketime "2030-01-02 03:04:05"
// CLIENT ...` (older versions `faketime -f +Nd`), both LD_PRELOAD. docs/conformance.md has a run.
import MCPGenKit
import MCPGenRemote
import MCPGenTerminal
import SystemPackage

struct Options {
  var metadataDir: String?
  var metadataURL: String?
  var targetNames: [String] = []
  var targetBaseURL: String?
  var targetDir: String?
  var verb: String?
  var operands: [String] = []
}

func fail(_ message: String) -> Never {
  Terminal.writeAll(2, Array("mcp-gen-tuf-client: \(message)\n".utf8))
  Terminal.exit(1)
}

let usage = """
  usage: mcp-gen-tuf-client --metadata-dir DIR init TRUSTED_ROOT
         mcp-gen-tuf-client --metadata-dir DIR --metadata-url URL refresh
         mcp-gen-tuf-client --metadata-dir DIR --metadata-url URL --target-name PATH [--target-name PATH ...] --target-base-url URL --target-dir DIR download
  """

func parse(_ arguments: [String]) -> Options {
  var o = Options()
  var i = 0
  while i < arguments.count {
    let arg = arguments[i]
    if o.verb == nil, arg.hasPrefix("--") {
      var name = arg
      var value: String?
      if let eq = arg.firstIndex(of: "=") {
        name = String(arg[..<eq])
        value = String(arg[arg.index(after: eq)...])
      } else if i + 1 < arguments.count {
        i += 1
        value = arguments[i]
      }
      guard let value else { fail("\(name) needs a value\n\(usage)") }
      switch name {
      case "--metadata-dir": o.metadataDir = value
      case "--metadata-url": o.metadataURL = value
      case "--target-name": o.targetNames.append(value)
      case "--target-base-url": o.targetBaseURL = value
      case "--target-dir": o.targetDir = value
      default: fail("unknown option \(name)\n\(usage)")
      }
    } else if o.verb == nil {
      o.verb = arg
    } else {
      o.operands.append(arg)
    }
    i += 1
  }
  return o
}

func required(_ value: String?, _ option: String) -> String {
  guard let value, !value.isEmpty else { fail("\(option) is required for this command\n\(usage)") }
  return value
}

/// The arguments. Swift's runtime captures argv from an ELF initializer, and with libfaketime
/// preloaded by LD_PRELOAD alone (no FAKETIME_SHARED, unlike the `faketime` wrapper) it sees
/// none: the kernel's copy in /proc/self/cmdline is the same bytes.
func arguments() -> [String] {
  if CommandLine.argc > 0 { return Array(CommandLine.arguments.dropFirst()) }
  guard let bytes = try? ConformanceFiles.readFile(FilePath("/proc/self/cmdline")) else { return [] }
  var parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
  if parts.last == "" { parts.removeLast() }
  return Array(parts.dropFirst())
}

let options = parse(arguments())
let now = Clock.now()

do throws(MCPGenError) {
  // The transport of pull (the curl program), without retries: the suite serves from
  // localhost, and a failed request must fail the command as the reference clients' do.
  var transport = CurlFetcher.Options()
  transport.retries = 0
  let fetcher = try CurlFetcher(options: transport)
  switch options.verb {
  case "init":
    guard options.operands.count == 1 else { fail("init takes one trusted root file\n\(usage)") }
    try ConformanceFiles.initialize(
      metadataDirectory: FilePath(required(options.metadataDir, "--metadata-dir")), trustedRoot: FilePath(options.operands[0]))
  case "refresh":
    guard options.operands.isEmpty else { fail("refresh takes no operands\n\(usage)") }
    var updater = Updater(
      metadataDirectory: FilePath(required(options.metadataDir, "--metadata-dir")),
      metadataURL: required(options.metadataURL, "--metadata-url"), targetsURL: "", fetcher: fetcher, now: now)
    try updater.refresh()
  case "download":
    guard options.operands.isEmpty, !options.targetNames.isEmpty else { fail("download takes --target-name PATH and no operands\n\(usage)") }
    var updater = Updater(
      metadataDirectory: FilePath(required(options.metadataDir, "--metadata-dir")),
      metadataURL: required(options.metadataURL, "--metadata-url"),
      targetsURL: required(options.targetBaseURL, "--target-base-url"), fetcher: fetcher, now: now)
    let targets = TargetDirectory(path: FilePath(required(options.targetDir, "--target-dir")))
    try updater.refresh()
    // In order, one updater, stopping at the first failure.
    for name in options.targetNames {
      guard let target = try updater.target(named: name) else {
        fail("no trusted targets metadata lists \(name); check the target name")
      }
      if targets.holds(target) { continue }
      try targets.store(try updater.download(target), for: target)
    }
  default:
    fail("give a command: init, refresh or download\n\(usage)")
  }
} catch {
  fail(error.message)
}
Terminal.exit(0)
