import ArgumentParser
import MCPGenKit
import MCPGenRemote
import MCPGenTerminal
import SystemPackage

struct PullCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pull",
    _superCommandName: superCommand,
    abstract: "Download a release from a remote, verified (TUF), store it, and with --switch make it current.",
    usage: """
      mcp-gen pull [<options>] <name> [<channel>]
      mcp-gen pull [<options>] <name> --release <label-or-key>
      """,
    discussion: "The channel's release is the one with the highest sequence number that lists it (default channel: stable). Only objects no stored release has are downloaded; each is hashed and refused (exit 7, nothing stored) unless it matches the signed manifest. A pull that was interrupted continues where it stopped. With --switch, the release is made current as switch does, with its health checks and automatic rollback."
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup(title: "Health checks (with --switch)") var health: HealthOptions

  @Argument(help: ArgumentHelp("The remote's name (mcp-gen remote list).", valueName: "name"))
  var name: String

  @Argument(help: ArgumentHelp("The channel whose newest release to pull (default: stable).", valueName: "channel"))
  var channel: String?

  @Option(help: ArgumentHelp("Pull this release (its label, or its key or a key prefix of 8+ hex digits) instead of a channel's newest.", valueName: "label-or-key"))
  var release: String?

  @Flag(name: .customLong("switch"), help: "Make the release current afterwards (health checks and rollback as switch).")
  var switchAfter = false

  func validate() throws {
    if release != nil && channel != nil {
      throw ValidationError("--release names one release: give it or a channel, not both")
    }
  }

  /// The TUF client (section 5 of the specification) over the remote's trusted metadata.
  static let trustedSource: TrustedSourceFactory = { remote, fetcher, now in
    var updater = Updater(
      metadataDirectory: remote.directory, metadataURL: remote.url.metadataURL, targetsURL: remote.url.targetsURL, fetcher: fetcher, now: now)
    updater.fetchesTimestampWithNextRoot = true
    return updater
  }

  /// The transport: the curl program, many transfers from each process (h20-transport).
  static func fetcher() throws(MCPGenError) -> any RemoteFetcher {
    try CurlFetcher()
  }

  func run() throws {
    let name = try RemoteName(self.name)
    let selector: ReleaseSelector = release.map(ReleaseSelector.release) ?? .channel(channel ?? ReleaseSelector.defaultChannel)
    let store = try global.openStore(create: false, progress: true)
    // Ctrl-C or SIGTERM stops the downloads (verified ones are kept) or undoes the switch.
    try installCancelSignals()
    let config = switchAfter ? try health.effective(store) : Config()
    _ = try RemoteRegistry(store: store).open(name)  // An unknown remote is named as such first.
    let puller = Puller(store: store, fetcher: try PullCommand.fetcher(), makeSource: PullCommand.trustedSource)
    let result = try puller.pull(PullRequest(remote: name, selector: selector, switchAfter: switchAfter, config: config))
    try PullReport.print(result, store: store, json: global.json)
  }
}

extension PullCommand: HashesFiles {}

enum PullReport {
  /// The result, then (text) what the switch did, as `switch` prints it. A switch whose checks
  /// failed exits 4 (rolled back) or 5 (rolling back failed too), as `switch` does.
  static func print(_ r: PullResult, store: Store, json: Bool) throws {
    let label = r.label.map { " (\($0))" } ?? ""
    if json {
      Output.json(r.json)
    } else if let added = r.added {
      var line = "pulled release \(r.key.short)\(label) from \(r.remote): downloaded \(r.downloadedObjects) objects (\(Output.bytes(r.downloadedBytes)))"
      if r.copiedFiles > 0 { line += ", took \(r.copiedFiles) files (\(Output.bytes(r.copiedBytes))) from the store" }
      if r.resumedObjects > 0 { line += ", kept \(r.resumedObjects) verified by an interrupted pull" }
      Output.line(line)
      Output.line(added.path.displayString)
    } else {
      Output.line("release \(r.key.short)\(label) of \(r.remote) is stored already" + (r.switchOutcome == nil ? "; nothing changed" : ""))
    }
    guard let outcome = r.switchOutcome else { return }
    if !json { return try SwitchReport.print(outcome, store: store, json: false) }
    if outcome.health.failure != nil {
      throw ExitCode(outcome.health.rolledBack ? ExitStatus.healthCheckRolledBack : ExitStatus.rollbackFailed)
    }
  }
}
