import ArgumentParser
import MCPGenKit
import MCPGenRemote
import MCPGenTerminal

/// `mcp-gen key generate FILE`: a signing key for `publish`.
struct KeyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "key",
    _superCommandName: superCommand,
    abstract: "Make a signing key for publishing releases: mcp-gen key generate FILE.",
    usage: "mcp-gen key generate <file>",
    discussion: """
      Writes FILE, an Ed25519 private key in PKCS#8 PEM (mode 0600), and FILE.pub, its TUF public \
      key object in canonical JSON; prints the key id, FILE.pub and the public key. Never \
      overwrites a file. Keep root keys offline; publish init takes them with --root-key.
      """
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: ArgumentHelp("generate", valueName: "action"))
  var action: String

  @Argument(help: ArgumentHelp("The private key file to create (FILE.pub is written beside it).", valueName: "file"))
  var file: String

  func validate() throws {
    guard action == "generate" else { throw ValidationError("unknown action '\(action)': the only one is mcp-gen key generate FILE") }
  }

  func run() throws {
    let path = RawArguments.path(file)
    let signer = try KeyFile.generate(path)
    let publicPath = KeyFile.publicPath(path)
    if global.json {
      Output.json(.object([
        ("keyid", .string(signer.keyID)), ("private", .string(path.bytes)), ("public", .string(publicPath.bytes)),
        ("key", signer.publicKey.json),
      ]))
    } else {
      Output.line("key id \(signer.keyID)")
      Output.line("public key \(publicPath.displayString): \(signer.publicKey.json.text)")
    }
  }
}
