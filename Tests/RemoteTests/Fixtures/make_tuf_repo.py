"""Writes TUF repositories with python-tuf's Metadata API, the independent peer the client
tests read (Tests/RemoteTests/Client, Tests/RemoteTests/Conformance).

usage: make_tuf_repo.py SCENARIO OUT NOW

NOW is the unix time the metadata expiry is counted from (timestamp NOW+1 day, snapshot
NOW+7 days, targets and root NOW+365 days). Each scenario writes one or more states,
OUT/<state>/ with metadata/ and targets/ as a server would serve them, plus OUT/root.json, the
root a client starts from. Attack states are signed by the real keys where the attack needs
it: what makes them attacks is version, threshold or content, not a broken signature.
"""

import copy
import hashlib
import json
import os
import sys
from datetime import datetime, timedelta, timezone

from securesystemslib.signer import CryptoSigner, Signature, SSlibKey
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    MetaFile,
    Metadata,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)

DAY = timedelta(days=1)


class Repo:
    """Top-level roles, one Ed25519 signer each (more where a scenario says), and every
    metadata and target file published so far, by path below the state directory."""

    def __init__(self, now: datetime, consistent: bool = True, kinds=None):
        self.now = now
        self.consistent = consistent
        kinds = kinds or {}
        self.signers = {
            r: [kinds.get(r, CryptoSigner.generate_ed25519)()] for r in ("root", "timestamp", "snapshot", "targets")
        }
        self.files: dict[str, bytes] = {}
        root = Root(expires=now + 365 * DAY, consistent_snapshot=consistent)
        for role, signers in self.signers.items():
            for s in signers:
                root.add_key(s.public_key, role)
        self.root = Metadata(root)
        self.targets = Metadata(Targets(expires=now + 365 * DAY))
        self.delegated: dict[str, Metadata] = {}
        self.delegated_signers: dict[str, list] = {}
        self.snapshot = Metadata(Snapshot(expires=now + 7 * DAY))
        self.timestamp = Metadata(Timestamp(expires=now + DAY))

    # -- signing and publishing -------------------------------------------------------------
    def sign(self, md: Metadata, signers) -> bytes:
        md.signatures.clear()
        for s in signers:
            md.sign(s, append=True)
        return md.to_bytes()

    def publish_root(self, extra_signers=()) -> bytes:
        data = self.sign(self.root, list(self.signers["root"]) + list(extra_signers))
        self.files[f"metadata/{self.root.signed.version}.root.json"] = data
        return data

    def add_target(self, md: Metadata, path: str, content: bytes, algorithms=("sha256",)):
        info = TargetFile.from_data(path, content, list(algorithms))
        md.signed.targets[path] = info
        dirname, _, base = path.rpartition("/")
        prefix = f"{dirname}/" if dirname else ""
        if self.consistent:
            for h in info.hashes.values():
                self.files[f"targets/{prefix}{h}.{base}"] = content
        else:
            self.files[f"targets/{path}"] = content

    def delegate(self, name: str, paths, terminating=False, delegator="targets"):
        """`delegator` (targets or a delegated role) delegates `paths` to `name`, a new role
        with a key of its own, or an existing one (a second delegation, a cycle)."""
        if name not in self.delegated_signers:
            self.delegated_signers[name] = [CryptoSigner.generate_ed25519()]
            self.delegated[name] = Metadata(Targets(expires=self.now + 365 * DAY))
        signer = self.delegated_signers[name][0]
        parent = self.targets if delegator == "targets" else self.delegated[delegator]
        if parent.signed.delegations is None:
            parent.signed.delegations = Delegations(keys={}, roles={})
        dl = parent.signed.delegations
        dl.keys[signer.public_key.keyid] = signer.public_key
        dl.roles[name] = DelegatedRole(name, [signer.public_key.keyid], 1, terminating, paths)

    def publish(self, bump: bool = True):
        """New targets (and delegated), snapshot and timestamp versions, with lengths and
        hashes in snapshot and timestamp (the mix-and-match defence)."""
        if bump:
            self.targets.signed.version += 1
            self.snapshot.signed.version += 1
            self.timestamp.signed.version += 1
        for name, md in self.delegated.items():
            data = self.sign(md, self.delegated_signers[name])
            self.files[self.name(name, md.signed.version)] = data
            self.snapshot.signed.meta[f"{name}.json"] = meta_for(md.signed.version, data)
        data = self.sign(self.targets, self.signers["targets"])
        self.files[self.name("targets", self.targets.signed.version)] = data
        self.snapshot.signed.meta["targets.json"] = meta_for(self.targets.signed.version, data)
        self.publish_snapshot_and_timestamp()

    def publish_snapshot_and_timestamp(self):
        data = self.sign(self.snapshot, self.signers["snapshot"])
        self.files[self.name("snapshot", self.snapshot.signed.version)] = data
        self.timestamp.signed.snapshot_meta = meta_for(self.snapshot.signed.version, data)
        self.files["metadata/timestamp.json"] = self.sign(self.timestamp, self.signers["timestamp"])

    def name(self, role: str, version: int) -> str:
        """The served name: versioned with consistent snapshots, plain without."""
        return f"metadata/{version}.{role}.json" if self.consistent else f"metadata/{role}.json"

    def write_state(self, out: str, name: str, files=None):
        for path, data in (files or self.files).items():
            full = os.path.join(out, name, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)


def meta_for(version: int, data: bytes) -> MetaFile:
    return MetaFile(version=version, length=len(data), hashes={"sha256": hashlib.sha256(data).hexdigest()})


def initial(repo: Repo) -> None:
    """Version 1 of everything: one target with SHA-256 and SHA-512, one delegated role."""
    repo.publish_root()
    repo.add_target(repo.targets, "releases/a", b"release a\n", ("sha256", "sha512"))
    repo.delegate("delegated", ["delegated/*"])
    repo.add_target(repo.delegated["delegated"], "delegated/file.txt", b"delegated file\n")
    repo.publish(bump=False)


def basic(out: str, now: datetime) -> None:
    repo = Repo(now)
    initial(repo)
    with open(os.path.join(out, "root.json"), "wb") as f:
        f.write(repo.files["metadata/1.root.json"])
    repo.write_state(out, "s1")
    s1 = dict(repo.files)

    repo.add_target(repo.targets, "releases/b", b"release b\n")
    repo.publish()  # targets, snapshot, timestamp v2
    repo.write_state(out, "s2")
    s2 = dict(repo.files)

    # Timestamp v3 without signatures.
    ts = copy.deepcopy(repo.timestamp)
    ts.signed.version = 3
    ts.signatures.clear()
    repo.write_state(out, "ts-unsigned", {**s2, "metadata/timestamp.json": ts.to_bytes()})

    # The old timestamp (v1) served again after v2.
    repo.write_state(out, "ts-rollback", {**s2, "metadata/timestamp.json": s1["metadata/timestamp.json"]})

    # A new timestamp (v3, validly signed) naming the old snapshot v1.
    ts = copy.deepcopy(repo.timestamp)
    ts.signed.version = 3
    ts.signed.snapshot_meta = meta_for(1, s1["metadata/1.snapshot.json"])
    data = repo.sign(ts, repo.signers["timestamp"])
    repo.write_state(out, "snapshot-rollback", {**s2, "metadata/timestamp.json": data})

    # A new snapshot (v3) that lists targets v1 where v2 was trusted.
    snap = copy.deepcopy(repo.snapshot)
    snap.signed.version = 3
    snap.signed.meta["targets.json"] = meta_for(1, s1["metadata/1.targets.json"])
    snap_data = repo.sign(snap, repo.signers["snapshot"])
    ts = copy.deepcopy(repo.timestamp)
    ts.signed.version = 3
    ts.signed.snapshot_meta = meta_for(3, snap_data)
    repo.write_state(out, "targets-rollback", {
        **s2, "metadata/3.snapshot.json": snap_data,
        "metadata/timestamp.json": repo.sign(ts, repo.signers["timestamp"])})

    # Mix and match: snapshot v3 names targets v3 by its hash, the server gives another
    # targets v3 (validly signed, never in that snapshot).
    t3 = copy.deepcopy(repo.targets)
    t3.signed.version = 3
    listed = repo.sign(t3, repo.signers["targets"])
    other = copy.deepcopy(t3)
    other.signed.targets.pop("releases/b")
    served = repo.sign(other, repo.signers["targets"])
    snap = copy.deepcopy(repo.snapshot)
    snap.signed.version = 3
    snap.signed.meta["targets.json"] = meta_for(3, listed)
    snap_data = repo.sign(snap, repo.signers["snapshot"])
    ts = copy.deepcopy(repo.timestamp)
    ts.signed.version = 3
    ts.signed.snapshot_meta = meta_for(3, snap_data)
    repo.write_state(out, "mix-and-match", {
        **s2, "metadata/3.targets.json": served, "metadata/3.snapshot.json": snap_data,
        "metadata/timestamp.json": repo.sign(ts, repo.signers["timestamp"])})

    # Mix and match of snapshot: timestamp v3 names snapshot v3 by the hash of one snapshot,
    # the server gives another (same version and length, validly signed, other expiry).
    snap = copy.deepcopy(repo.snapshot)
    snap.signed.version = 3
    listed = repo.sign(snap, repo.signers["snapshot"])
    snap.signed.expires = snap.signed.expires - DAY
    served = repo.sign(snap, repo.signers["snapshot"])
    ts = copy.deepcopy(repo.timestamp)
    ts.signed.version = 3
    ts.signed.snapshot_meta = meta_for(3, listed)
    repo.write_state(out, "mix-and-match-snapshot", {
        **s2, "metadata/3.snapshot.json": served,
        "metadata/timestamp.json": repo.sign(ts, repo.signers["timestamp"])})

    # 3.snapshot.json whose content says version 4 (timestamp v3 names version 3 and has no
    # hash for it, so only the version inside can give it away).
    snap = copy.deepcopy(repo.snapshot)
    snap.signed.version = 4
    snap_data = repo.sign(snap, repo.signers["snapshot"])
    ts = copy.deepcopy(repo.timestamp)
    ts.signed.version = 3
    ts.signed.snapshot_meta = MetaFile(version=3)
    repo.write_state(out, "snapshot-name-version", {
        **s2, "metadata/3.snapshot.json": snap_data,
        "metadata/timestamp.json": repo.sign(ts, repo.signers["timestamp"])})

    # A valid timestamp v3 padded with white space past the 16384-byte cap.
    ts = copy.deepcopy(repo.timestamp)
    ts.signed.version = 3
    data = repo.sign(ts, repo.signers["timestamp"])
    repo.write_state(out, "oversized", {**s2, "metadata/timestamp.json": data + b" " * 20000})

    # A target whose served content differs from its signed hash.
    tampered = dict(s2)
    for path in list(tampered):
        if path.startswith("targets/releases/") and path.endswith(".b"):
            tampered[path] = b"release B\n"
    repo.write_state(out, "target-tampered", tampered)


def plain(out: str, now: datetime) -> None:
    """Without consistent snapshots: snapshot.json, targets.json, targets by their path."""
    repo = Repo(now, consistent=False)
    initial(repo)
    with open(os.path.join(out, "root.json"), "wb") as f:
        f.write(repo.files["metadata/1.root.json"])
    repo.write_state(out, "s1")


def keytypes(out: str, now: datetime) -> None:
    """Root and targets signed with ECDSA P-256, timestamp with RSA-PSS-SHA256, snapshot with
    Ed25519 (securesystemslib's key objects and signatures for each)."""
    repo = Repo(now, kinds={
        "root": CryptoSigner.generate_ecdsa, "targets": CryptoSigner.generate_ecdsa,
        "timestamp": CryptoSigner.generate_rsa})
    initial(repo)
    with open(os.path.join(out, "root.json"), "wb") as f:
        f.write(repo.files["metadata/1.root.json"])
    repo.write_state(out, "s1")


def graph(out: str, now: datetime) -> None:
    """Delegation graphs of the tuf-conformance suite's traversal tests, one state each, all
    under one root: (delegator, role, terminating, paths)."""
    base = Repo(now)
    base.publish_root()
    with open(os.path.join(out, "root.json"), "wb") as f:
        f.write(base.files["metadata/1.root.json"])
    cases = {
        "dfs": [("targets", "A"), ("targets", "B"), ("A", "C"), ("A", "D")],
        "terminating": [("targets", "A"), ("targets", "B"), ("A", "C", True), ("A", "D")],
        "cycle": [("targets", "A"), ("targets", "B"), ("B", "C"), ("C", "D"), ("D", "B")],
        "paths": [("targets", "A", False, ["*.py"]), ("targets", "B"), ("A", "C")],
        "shared": [("targets", "A"), ("targets", "B"), ("B", "C"), ("A", "C")],
    }
    for case, delegations in cases.items():
        repo = Repo(now)
        repo.signers = base.signers
        repo.root = base.root
        repo.files = {"metadata/1.root.json": base.files["metadata/1.root.json"]}
        for d in delegations:
            delegator, role = d[0], d[1]
            terminating = d[2] if len(d) > 2 else False
            paths = d[3] if len(d) > 3 else ["*"]
            repo.delegate(role, paths, terminating, delegator)
        repo.publish(bump=False)
        repo.write_state(out, case)


def rotation(out: str, now: datetime) -> None:
    """Root v1 with one root key, then root v2 with two new root keys and threshold 2 and a new
    timestamp key (signed by the old root key and both new ones)."""
    repo = Repo(now)
    initial(repo)
    with open(os.path.join(out, "root.json"), "wb") as f:
        f.write(repo.files["metadata/1.root.json"])
    repo.write_state(out, "s1")
    s1 = dict(repo.files)

    # An attacker with the old timestamp key pushes timestamp to version 100 (fast-forward).
    ff = copy.deepcopy(repo.timestamp)
    ff.signed.version = 100
    repo.write_state(out, "fast-forward", {**s1, "metadata/timestamp.json": repo.sign(ff, repo.signers["timestamp"])})

    old_root = repo.signers["root"]
    new_root = [CryptoSigner.generate_ed25519(), CryptoSigner.generate_ed25519()]
    root = repo.root.signed
    for s in old_root:
        root.revoke_key(s.public_key.keyid, "root")
    for s in new_root:
        root.add_key(s.public_key, "root")
    root.roles["root"].threshold = 2
    old_ts = repo.signers["timestamp"][0]
    new_ts = CryptoSigner.generate_ed25519()
    root.revoke_key(old_ts.public_key.keyid, "timestamp")
    root.add_key(new_ts.public_key, "timestamp")
    repo.signers["timestamp"] = [new_ts]
    root.version = 2
    repo.signers["root"] = new_root
    v2 = repo.sign(repo.root, old_root + new_root)
    repo.timestamp.signed.version = 1  # fast-forward recovery: the new key starts over
    repo.publish_snapshot_and_timestamp()
    good = {**repo.files, "metadata/2.root.json": v2}
    repo.write_state(out, "s2", good)

    # The same root v2 signed only by the new keys: no threshold of the old root.
    repo.write_state(out, "no-old-threshold", {**good, "metadata/2.root.json": repo.sign(repo.root, new_root)})
    # Signed by the old key and only one new key: under the new threshold of 2.
    repo.write_state(out, "under-new-threshold", {**good, "metadata/2.root.json": repo.sign(repo.root, old_root + new_root[:1])})
    # Served as 2.root.json, says version 3.
    wrong = copy.deepcopy(repo.root)
    wrong.signed.version = 3
    repo.write_state(out, "root-name-version", {**good, "metadata/2.root.json": repo.sign(wrong, old_root + new_root)})


def dupkey(out: str, now: datetime) -> None:
    """Root lists timestamp key T1 under two key ids and T2 under a third, threshold 2."""
    repo = Repo(now)
    t1, t2 = CryptoSigner.generate_ed25519(), CryptoSigner.generate_ed25519()
    root = repo.root.signed
    root.revoke_key(repo.signers["timestamp"][0].public_key.keyid, "timestamp")
    root.add_key(t1.public_key, "timestamp")
    root.add_key(t2.public_key, "timestamp")
    k = t1.public_key
    alias = SSlibKey("0" * 64, k.keytype, k.scheme, dict(k.keyval))
    root.add_key(alias, "timestamp")
    root.roles["timestamp"].threshold = 2
    repo.signers["timestamp"] = [t1, t2]
    repo.publish_root()
    with open(os.path.join(out, "root.json"), "wb") as f:
        f.write(repo.files["metadata/1.root.json"])
    repo.publish(bump=False)
    repo.write_state(out, "good")  # signed by T1 and T2

    ts = copy.deepcopy(repo.timestamp)
    ts.signatures.clear()
    sig = ts.sign(t1, append=True)
    ts.signatures[alias.keyid] = Signature(alias.keyid, sig.signature)
    repo.write_state(out, "twice", {**repo.files, "metadata/timestamp.json": ts.to_bytes()})

    ts = copy.deepcopy(repo.timestamp)
    ts.signatures.clear()
    ts.sign(t1, append=True)
    repo.write_state(out, "under-threshold", {**repo.files, "metadata/timestamp.json": ts.to_bytes()})


def main() -> None:
    scenario, out, now = sys.argv[1], sys.argv[2], int(sys.argv[3])
    when = datetime.fromtimestamp(now, tz=timezone.utc).replace(microsecond=0)
    os.makedirs(out, exist_ok=True)
    {"basic": basic, "plain": plain, "keytypes": keytypes, "graph": graph, "rotation": rotation, "dupkey": dupkey}[scenario](out, when)


if __name__ == "__main__":
    main()
