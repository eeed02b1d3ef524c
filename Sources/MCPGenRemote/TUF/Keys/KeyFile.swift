import MCPGenKit
import MCPGenSystem
import SystemPackage

/// Key files: `FILE` a PKCS#8 PEM private key (mode 0600), `FILE.pub` its TUF public key object
/// in canonical JSON (`mcp-gen key generate`, store-layout.md section 14).
public enum KeyFile {
  /// Generates an Ed25519 key into `path` and `path.pub`, both new: an existing key file is
  /// never overwritten (it may be the only copy of a root key). Returns the signer.
  ///
  /// The directory must be trusted as a parent (`TrustedPath`, store-layout.md section 4a; a
  /// sticky one that others may write passes): in one that another user may write, they could
  /// rename the new key away, or put their own in its place for root to sign with.
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
    let (directory, name) = try openTrustedDirectory(path)
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
  ///
  /// Refused, before a byte of it is read, when group or others may read or write it (like
  /// OpenSSH's "UNPROTECTED PRIVATE KEY FILE": a copied private key signs anything), or when it
  /// or a directory above it is not trusted (`TrustedPath`): another user could substitute a key
  /// of their own, and root would sign with it. The bytes are read through the descriptor the
  /// trust walk opened.
  public static func load(_ path: FilePath) throws(MCPGenError) -> TUFSigner {
    let name = splitLast(path.bytes).name
    guard !name.isEmpty, name != [0x2E], name != [0x2E, 0x2E] else {
      throw MCPGenError(.invalidInput, "\(path.displayString) is not a file name; give the key file's path", path: path)
    }
    func failure(_ error: SystemCallError) -> MCPGenError {
      if error.errno == .noSuchFileOrDirectory {
        return MCPGenError(.notFound, "no key file \(path.displayString); make one with mcp-gen key generate", hint: "mcp-gen key generate \(path.displayString)", path: path, cause: error)
      }
      return MCPGenError(error, doing: "read the key file")
    }
    let walked: (problems: [TrustProblem], resolved: FileInfo, file: FileFD?)
    do throws(SystemCallError) {
      walked = try TrustedPath.openForReading(path)
    } catch {
      throw failure(error)
    }
    // A directory or symlink on the way first; then the key's own mode (chmod 600 fixes group
    // or other write as well as read); then the key's owner.
    if let problem = walked.problems.first(where: { FileKind(mode: $0.mode) != .regular }) { throw refusal(path, problem) }
    guard let file = walked.file, walked.resolved.size <= 64 << 10 else {
      throw MCPGenError(.invalidInput, "\(path.displayString) is not a key file (not a regular file of at most 64 KiB); give the private key file mcp-gen key generate wrote", path: path)
    }
    if walked.resolved.mode & 0o077 != 0 { throw unprotected(path, walked.resolved) }
    if let problem = walked.problems.first { throw refusal(path, problem) }
    let bytes: [UInt8]
    do throws(SystemCallError) {
      bytes = try file.readAll()
    } catch {
      throw failure(error)
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

  /// A key file, or a directory above it, that another user may change.
  static func refusal(_ path: FilePath, _ problem: TrustProblem) -> MCPGenError {
    problem.refusal("key file \(path.displayString)", risk: { "put a key of their own there for \($0) to sign with" }, outcome: "nothing was signed")
  }

  /// A private key that group or others may read or write (OpenSSH: "UNPROTECTED PRIVATE KEY FILE").
  static func unprotected(_ path: FilePath, _ st: FileInfo) -> MCPGenError {
    let fix = "chmod 600 \(Doctor.shellWord(path))"
    let who = st.mode & 0o070 != 0 && st.mode & 0o007 != 0 ? "group and others" : (st.mode & 0o070 != 0 ? "its group" : "others")
    return MCPGenError(
      .permission,
      "refusing unprotected private key file \(path.displayString): it is open to \(who) (owner \(Clock.userName(st.uid)), mode \(Doctor.octal(st.mode))); a private key must be readable by its owner only; nothing was signed (\(fix))",
      hint: fix, path: path)
  }

  /// The directory of `path`, opened and found trusted as a parent (`TrustedPath` with
  /// `lastIsParent`); the walk must end at the very directory opened. Also the file name.
  private static func openTrustedDirectory(_ path: FilePath) throws(MCPGenError) -> (DirectoryFD, [UInt8]) {
    let (directory, name) = try open(path)
    let walked: (problems: [TrustProblem], resolved: FileInfo)
    let held: FileInfo
    do throws(SystemCallError) {
      walked = try TrustedPath.walk(directory.path, lastIsParent: true)
      held = try directory.fstat()
    } catch {
      throw MCPGenError(error, doing: "check who may change the directory of the key file")
    }
    if let problem = walked.problems.first {
      throw problem.refusal(
        "to write key file \(path.displayString)", risk: { "take the new key away or swap it for one of their own for \($0) to sign with" },
        outcome: "nothing was written")
    }
    guard walked.resolved.device == held.device, walked.resolved.inode == held.inode else {
      throw MCPGenError(
        .conflict, "\(directory.path.displayString) was replaced while mcp-gen used it; nothing was written, find out who moved it",
        path: directory.path)
    }
    return (directory, name)
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
