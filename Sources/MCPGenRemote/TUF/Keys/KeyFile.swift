import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Key files: `FILE` a PKCS#8 PEM private key (mode 0600), `FILE.pub` its TUF public key object
/// in canonical JSON (`mcp-gen key generate`, store-layout.md section 14).
public enum KeyFile {
  /// Generates an Ed25519 key into `path` and `path.pub`, both new: an existing key file is
  /// never overwritten (it may be the only copy of a root key). Returns the signer.
  public static func generate(_ path: FilePath, type: KeyType = .ed25519) throws(MCPGenError) -> TUFSigner {
    let key: PrivateKey
    let pem: [UInt8]
    do {
      key = try PrivateKey.generate(type)
      pem = try key.pkcs8PEM()
    } catch {
      throw MCPGenError(.io, "cannot generate a key (\(error.message)); check the libcrypto installation")
    }
    let signer = try TUFSigner(privateKey: key)
    // Canonical JSON (the contract) for Ed25519. A PEM key's newlines would be written raw by
    // canonical JSON, which strict parsers refuse: ECDSA and RSA keys get escaped compact JSON.
    let pub = type == .ed25519 ? ((try? CanonicalJSON.encode(signer.publicKey.json)) ?? []) : signer.publicKey.json.serialized()
    guard !pub.isEmpty else {
      throw MCPGenError(.io, "cannot encode the public key as canonical JSON; check the libcrypto installation")
    }
    let (directory, name) = try open(path)
    try write(directory, name, pem, mode: 0o600, path: path)
    do throws(MCPGenError) {
      try write(directory, name + Array(".pub".utf8), pub, mode: 0o644, path: publicPath(path))
    } catch {
      try? directory.unlink(name)
      try? directory.sync()
      throw error
    }
    return signer
  }

  /// `FILE.pub`.
  public static func publicPath(_ path: FilePath) -> FilePath { FilePath(bytes: path.bytes + Array(".pub".utf8)) }

  /// Loads the private key in `path` (PKCS#8 PEM, unencrypted) as a signer.
  public static func load(_ path: FilePath) throws(MCPGenError) -> TUFSigner {
    let (directory, name) = try open(path)
    let bytes: [UInt8]
    do throws(SystemCallError) {
      guard case .regular(let file) = try directory.openRegularFile(name, flags: OpenFlags.readOnly) else {
        throw SystemCallError("open", path: path, errno: .invalidArgument)
      }
      guard try file.stat().size <= 64 << 10 else { throw SystemCallError("read", path: path, errno: .fileTooLarge) }
      bytes = try file.readAll()
    } catch {
      if error.errno == .noSuchFileOrDirectory {
        throw MCPGenError(.notFound, "no key file \(path.displayString); make one with mcp-gen key generate", hint: "mcp-gen key generate \(path.displayString)", path: path, cause: error)
      }
      if error.errno == .invalidArgument || error.errno == .fileTooLarge {
        throw MCPGenError(.invalidInput, "\(path.displayString) is not a key file (not a regular file of at most 64 KiB); give the private key file mcp-gen key generate wrote", path: path)
      }
      throw MCPGenError(error, doing: "read the key file")
    }
    do {
      return try TUFSigner(privateKey: try PrivateKey(pem: bytes))
    } catch let e as CryptoError {
      throw MCPGenError(.invalidInput, "\(path.displayString) is not a usable private key (\(e.message)); give the PKCS#8 PEM file mcp-gen key generate wrote", path: path)
    } catch let e as MCPGenError {
      throw e
    } catch {
      throw MCPGenError(.invalidInput, "\(path.displayString) is not a usable private key; give the file mcp-gen key generate wrote", path: path)
    }
  }

  private static func open(_ path: FilePath) throws(MCPGenError) -> (DirectoryFD, [UInt8]) {
    let (parent, name) = splitLast(path.bytes)
    guard !name.isEmpty, name != [0x2E], name != [0x2E, 0x2E] else {
      throw MCPGenError(.invalidInput, "\(path.displayString) is not a file name; give the key file's path", path: path)
    }
    let dir = parent.isEmpty ? (path.bytes.first == 0x2F ? [0x2F] : [0x2E]) : parent
    do {
      return (try DirectoryFD.open(FilePath(bytes: dir)), name)
    } catch {
      throw MCPGenError(error, doing: "open the directory of the key file")
    }
  }

  /// Written and synced before it is linked in under its name (never over an existing one), then
  /// the directory synced (`TemporaryFile`).
  private static func write(_ directory: DirectoryFD, _ name: [UInt8], _ bytes: [UInt8], mode: UInt32, path: FilePath) throws(MCPGenError) {
    do throws(SystemCallError) {
      try TemporaryFile.write(bytes, mode: mode, in: directory, as: name, replacing: false) { Store.temporaryName() }
    } catch where error.errno == .fileExists {
      throw MCPGenError(.conflict, "\(path.displayString) exists already; a key file is never overwritten, choose another name", path: path)
    } catch {
      throw MCPGenError(error, doing: "write the key file")
    }
  }
}
