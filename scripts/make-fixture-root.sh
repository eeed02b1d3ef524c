#!/usr/bin/env bash
# Writes fixtures/roots/v1.tar: a root made by the mcp-gen of this checkout, with history, for
# Tests/EndToEndTests/FixtureRootTests.swift ("roots written by earlier releases"). It was run, as
# root, by the commit that added v1; never run it again to make later code pass (store-layout.md,
# section 13): a later format gets its own v2 made by its own release, beside v1. It writes:
#   fixtures/roots/v1.tar                  the root (GNU tar, owner 0:0, sorted names, one mtime)
#   fixtures/roots/v1.expected/list.txt    `list` as this release printed it
#   fixtures/roots/v1.expected/list.json   `list --json`
#   fixtures/roots/v1.expected/status.json `status --json`, the root's path written as <root>
#
# Journal lines record command lines and source paths, so everything runs from a neutral fixed
# directory (/tmp/mcp-gen-fixture-v1: sources under src/, the root at root/) with a fixed
# environment: no path of the machine that made the archive appears in it. Times and process
# ids in the journal are those of the run; everything else is the same on every run.
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
repo=$PWD
[ "$(id -u)" -eq 0 ] || { echo "run as root: a production root is made by root (immutable entries, user root)" >&2; exit 1; }
for tool in git chattr tar; do
  command -v "$tool" >/dev/null || { echo "$tool is needed (MCP_GEN_DEPS=test scripts/deps.sh)" >&2; exit 1; }
done

nice swift build --product mcp-gen >&2
bin=$(swift build --show-bin-path)/mcp-gen

base=/tmp/mcp-gen-fixture-v1
out=$repo/fixtures/roots
if [ -e "$base" ]; then chattr -R -f -i "$base" || true; rm -rf -- "$base"; fi
mkdir -m 0755 "$base" "$base/src"
trap 'chattr -R -f -i "$base" || true; rm -rf -- "$base"' EXIT

# The releases: the four of fixtures/, and small ones made here. mcp-2.0 and mcp-0.9 carry a
# pyproject.toml version (their label), the git repository a tag.
cp -a fixtures/mcp-1.0 fixtures/mcp-1.1 fixtures/mcp-broken fixtures/mcp-single "$base/src/"
small() {  # small NAME VERSION: a release like mcp-1.1 whose label comes from pyproject.toml
  local dir=$base/src/$1
  mkdir -p "$dir/bin" "$dir/share/mcp"
  cp fixtures/mcp-1.1/bin/mcp "$dir/bin/mcp"
  printf '%s\n' "$2" > "$dir/share/mcp/VERSION"
  printf '[project]\nname = "mcp"\nversion = "%s"\n' "$2" > "$dir/pyproject.toml"
}
small mcp-2.0 2.0.0
small mcp-0.9 0.9.0
small repo 3.0.0
chmod -R u+rwX,go+rX-w "$base/src"
(
  cd "$base/src/repo"
  export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME=/nonexistent
  export GIT_AUTHOR_NAME=fixture GIT_AUTHOR_EMAIL=fixture@example.invalid
  export GIT_COMMITTER_NAME=fixture GIT_COMMITTER_EMAIL=fixture@example.invalid
  export GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'
  git init -q -b main . && git add -A && git commit -q -m 'mcp 3.0.0' && git tag v3.0.0
) >&2

# Every command runs in $base with this environment and no other.
run() {  # run EXPECTED-STATUS ARGS...: runs mcp-gen, fails unless it exits with that status
  local want=$1 status=0
  shift
  printf '$ mcp-gen %s\n' "$*" >&2
  (cd "$base" && env -i PATH=/usr/local/bin:/usr/bin:/bin LC_ALL=C.UTF-8 TZ=UTC NO_COLOR=1 \
    MCP_GEN_ROOT="$base/root" "$bin" "$@") || status=$?
  [ "$status" -eq "$want" ] || { echo "mcp-gen $*: exit status $status, expected $want" >&2; exit 1; }
}
key() { "$bin" hash --json "$base/src/$1" | sed -n 's/.*"key": *"\([0-9a-f]*\)".*/\1/p'; }

run 0 config --init                          # checks: bin/mcp --help, bin/mcp status, bin/mcp check
run 0 add src/mcp-1.0                        # add; no label (its VERSION is not top-level)
run 0 switch src/mcp-1.0                     # generation 1
run 0 switch src/mcp-1.1                     # generation 2
run 4 switch src/mcp-broken                  # generation 3: `bin/mcp check` fails, rolled back to 2 (F)
run 0 pin 1
run 0 pin 3                                  # the failed generation, kept by gc for a post-mortem
run 0 switch src/mcp-2.0                     # generation 4; label 2.0.0 from pyproject.toml
run 0 switch --no-checks --label single-1 src/mcp-single  # generation 5: a single file, given label
run 0 rollback                               # plain rollback (undo): back to 4
run 0 block "$(key mcp-single)"              # blocked: nothing switches to it without --force
run 0 rollback 1                             # rollback N: to 1
run 0 add src/mcp-0.9                        # stored, never switched to: gc removes it
run 0 add --label 1.1-lts src/mcp-1.1        # already stored: only a new label (outcome already-stored)
run 0 switch --git src/repo v3.0.0           # generation 6: source REPO@REF (COMMIT), label from the tag
run 0 switch "$(key mcp-1.1)"                # generation 7, by key
run 0 pin 6
run 0 unpin 6
run 0 gc --keep 4 --grace 0                  # removes generation 2 and the entry of mcp-0.9
run 0 audit --record

# What this release prints about the root it made.
rm -rf "$out/v1.expected"
mkdir -p "$out/v1.expected"
show() { (cd "$base" && env -i PATH=/usr/local/bin:/usr/bin:/bin LC_ALL=C.UTF-8 TZ=UTC NO_COLOR=1 COLUMNS=200 "$bin" --root "$base/root" "$@"); }
show list > "$out/v1.expected/list.txt"
show list --json > "$out/v1.expected/list.json"
show status --json | sed "s|$base/root|<root>|g" > "$out/v1.expected/status.json"

# No path of this machine in the root; the root's own path nowhere either (it is relocatable).
if grep -r -a -l -e "$repo" -e "$base/root" "$base/root"; then
  echo "the root names a path of this machine or its own path (above)" >&2; exit 1
fi

# One mtime for every member, far from the journal's times: a reader that lost the journal's
# `time` and fell back to a link's mtime would show 2000-01-01 in `list`, not what was recorded.
tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name --mtime=@946684800 \
  -C "$base" -cf "$out/v1.tar.tmp" root
mv "$out/v1.tar.tmp" "$out/v1.tar"
echo "wrote $out/v1.tar ($(stat -c %s "$out/v1.tar") bytes) and $out/v1.expected/" >&2
