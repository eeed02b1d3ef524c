import MCPGenSystem

extension GitRelease {
  /// The tag the ref names, as the label `add --git` and `switch --git` record (`git tag`): `v1.3.11`
  /// for `v1.3.11`, `tags/v1.3.11` or `refs/tags/v1.3.11`; nil for a branch, a commit id or an
  /// expression such as `v1.3.11^{}`, and for a tag name that is not a usable label.
  ///
  /// `git rev-parse --symbolic-full-name` names the ref the way git resolved it, so a name that is
  /// both a tag and a branch is a tag exactly when git read the commit from the tag.
  func tagLabel() -> ReleaseLabel? {
    guard let finished = try? GitRelease.runGit(["rev-parse", "--verify", "--quiet", "--symbolic-full-name", ref], gitDirectory),
      case .exited(0) = finished.status
    else { return nil }
    let prefix = Array("refs/tags/".utf8)
    var name = finished.output[...]
    if name.last == 0x0A { name = name.dropLast() }
    guard name.starts(with: prefix), let tag = String(validating: name.dropFirst(prefix.count), as: UTF8.self) else { return nil }
    return ReleaseLabel(tag, origin: .gitTag)
  }
}
