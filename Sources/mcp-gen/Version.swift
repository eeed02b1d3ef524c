/// What `mcp-gen --version` prints; the one place the version is written.
enum Version {
  static let text = "0.1.0"
}
