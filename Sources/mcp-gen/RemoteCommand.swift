import ArgumentParser
import MCPGenKit
import MCPGenRemote
import MCPGenTerminal

/// `remote add|list|remove`: the remotes a root pulls from (`<root>/remotes/NAME/`).
struct RemoteCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "remote",
    _superCommandName: superCommand,
    abstract: "Add, list or remove the remotes this root pulls signed releases from.",
    subcommands: [RemoteAddCommand.self, RemoteListCommand.self, RemoteRemoveCommand.self]
  )
}

struct RemoteAddCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "add",
    _superCommandName: "mcp-gen remote",
    abstract: "Add a remote: its URL and the root metadata it is trusted by.",
    discussion: "ROOT.json is the remote's first root metadata (metadata/1.root.json on the remote), obtained out of band: every later verification starts from it. It is copied into <root>/remotes/NAME/root.json."
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: ArgumentHelp("The remote's name: letters, digits, '.', '_', '+', '-' (at most 64, starting with a letter or digit).", valueName: "name"))
  var name: String

  @Argument(help: ArgumentHelp("The remote's base URL (http://, https:// or file://): metadata/, targets/ and objects/ are below it.", valueName: "url"))
  var url: String

  @Option(help: ArgumentHelp("The trusted root metadata of the remote (a TUF root.json).", valueName: "root.json"))
  var trust: String

  func run() throws {
    let name = try RemoteName(self.name)
    let url = try RemoteURL(self.url)
    let store = try global.openStore(create: true)
    let remote = try RemoteRegistry(store: store).add(name, url: url, trust: RawArguments.path(trust))
    if global.json { return Output.json(RemoteReport.json(remote)) }
    Output.line("added remote \(remote.name) (\(remote.url)), trusting its root version \(remote.rootVersion.map(String.init) ?? "?")")
  }
}

struct RemoteListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    _superCommandName: "mcp-gen remote",
    abstract: "List the remotes: name, URL and the version of the trusted root."
  )

  @OptionGroup var global: GlobalOptions

  func run() throws {
    let store: Store
    do {
      store = try global.openStore(create: false)
    } catch let error as MCPGenError where error.code == .notFound {
      // No root yet: no remotes either.
      if global.json { Output.json(.object([("remotes", .array([]))])) }
      return
    }
    let remotes = try RemoteRegistry(store: store).list()
    if global.json { return Output.json(.object([("remotes", .array(remotes.map(RemoteReport.json)))])) }
    let width = remotes.map(\.name.text.count).max() ?? 0
    for r in remotes {
      let padding = String(repeating: " ", count: width - r.name.text.count)
      Output.line("\(r.name)\(padding)  \(r.url)  root v\(r.rootVersion.map(String.init) ?? "?")")
    }
  }
}

struct RemoteRemoveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "remove",
    _superCommandName: "mcp-gen remote",
    abstract: "Remove a remote and its trusted metadata; releases pulled from it stay stored."
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: ArgumentHelp("The remote's name.", valueName: "name"))
  var name: String

  func run() throws {
    let name = try RemoteName(self.name)
    let remote = try RemoteRegistry(store: try global.openStore(create: false)).remove(name)
    if global.json { return Output.json(RemoteReport.json(remote)) }
    Output.line("removed remote \(remote.name) (\(remote.url)); releases pulled from it stay in the store")
  }
}

enum RemoteReport {
  static func json(_ r: Remote) -> JSON {
    .object([
      ("name", .string(r.name.text)),
      ("url", .string(r.url.text)),
      ("rootVersion", r.rootVersion.map(JSON.int) ?? .null),
    ])
  }
}
