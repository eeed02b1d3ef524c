import ArgumentParser
import MCPGenKit
import MCPGenTerminal

/// Flags that override `<root>/config.json` for one run of a gated command.
struct HealthOptions: ParsableArguments {
  @Option(name: .customLong("check"), help: ArgumentHelp("A required health check (repeatable); replaces the configured ones.", valueName: "command"))
  var checks: [String] = []

  @Option(name: .customLong("advisory-check"), help: ArgumentHelp("An advisory check (repeatable): a failure is only a warning.", valueName: "command"))
  var advisoryChecks: [String] = []

  @Option(help: ArgumentHelp("Run after the switch, before the checks (e.g. restart the service).", valueName: "command"))
  var restart: String?

  @Option(help: ArgumentHelp("Seconds a check may run before its process group is killed, 1 to 86400 (default 30).", valueName: "seconds"))
  var checkTimeout: Double?

  @Option(help: ArgumentHelp("Seconds to wait after passing checks, then run the required checks again (default 0).", valueName: "seconds"))
  var settle: Double?

  @Flag(help: "Run no restart command and no checks this time.")
  var noChecks = false

  func validate() throws {
    // As in config.json: a check must time out, and in no less than a second.
    if let t = checkTimeout, !(t >= 1 && t <= Config.maximumSeconds) {
      throw ValidationError("--check-timeout must be a number of seconds from 1 to \(Int(Config.maximumSeconds))")
    }
    if let s = settle, !(s >= 0 && s <= Config.maximumSeconds) {
      throw ValidationError("--settle must be a number of seconds from 0 to \(Int(Config.maximumSeconds))")
    }
    if noChecks && (!checks.isEmpty || !advisoryChecks.isEmpty || restart != nil) {
      throw ValidationError("--no-checks cannot be combined with --check, --advisory-check or --restart")
    }
  }

  /// The root's configuration with these flags applied.
  func effective(_ store: Store) throws -> Config {
    var config = try store.loadConfig()
    if noChecks {
      config.checks = []
      config.advisoryChecks = []
      config.restart = nil
      for key in ["checks", "advisoryChecks", "restart"] { config.origin[key] = "flag (--no-checks)" }
    }
    if !checks.isEmpty { config.checks = checks; config.origin["checks"] = "flag" }
    if !advisoryChecks.isEmpty { config.advisoryChecks = advisoryChecks; config.origin["advisoryChecks"] = "flag" }
    if let restart { config.restart = restart; config.origin["restart"] = "flag" }
    if let checkTimeout { config.checkTimeout = checkTimeout; config.origin["checkTimeout"] = "flag" }
    if let settle { config.settle = settle; config.origin["settle"] = "flag" }
    return config
  }
}
