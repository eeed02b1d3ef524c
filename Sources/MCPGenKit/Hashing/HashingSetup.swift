import MCPGenSystem

/// What the CLI may ask of the hashing layer without importing the system target.
public enum HashingSetup {
  /// Initialises libcrypto's SHA-256 on another thread while the arguments are parsed, for a
  /// command that will hash (`SHA256.prepareInBackground`).
  public static func prepareInBackground() { SHA256.prepareInBackground() }
}
