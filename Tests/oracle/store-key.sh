#!/usr/bin/env bash
# Recomputes the mcp-gen store key of a release with bash and coreutils only (find, sort,
# sha256sum, printf, stat, readlink, wc), exactly as store-layout.md specifies. Tests compare its
# answer with `mcp-gen hash`; if the document and the code ever disagree, they fail.
#
# usage: store-key.sh RELEASE            prints the key
#        store-key.sh --manifest RELEASE writes the raw manifest bytes
set -euo pipefail
export LC_ALL=C

show_manifest=false
if [ "${1:-}" = --manifest ]; then show_manifest=true; shift; fi
release=${1:?usage: store-key.sh [--manifest] RELEASE}

# record KIND SIZE DIGEST PATH TARGET: one record, "kind SP size SP digest SP path NUL target NUL".
record() { printf '%s %s %s %s\0%s\0' "$1" "$2" "$3" "$4" "$5"; }

# entry FS_PATH MANIFEST_PATH: the record of one entry, never following a symlink.
entry() {
  local p=$1 name=$2
  if [ -L "$p" ] && [ "$name" != . ]; then
    local target
    target=$(readlink -n -- "$p"; printf x)   # the x keeps trailing newlines of the target
    target=${target%x}
    record l "$(printf '%s' "$target" | wc -c)" - "$name" "$target"
  elif [ -d "$p" ]; then
    record d 0 - "$name" ""
  elif [ -f "$p" ]; then
    local mode kind digest
    mode=$(stat -L -c %a -- "$p")
    if (( 8#$mode & 8#100 )); then kind=x; else kind=f; fi   # only the owner's execute bit counts
    digest=$(sha256sum < "$p")
    record "$kind" "$(stat -L -c %s -- "$p")" "${digest%% *}" "$name" ""
  else
    echo "store-key.sh: $p is not a file, directory or symlink" >&2
    exit 1
  fi
}

manifest() {
  printf 'mcp-gen manifest 1\n'
  entry "$release" .          # the root first; a symlink given as the release itself is followed
  if [ -d "$release" ]; then
    find -L "$release" -maxdepth 0 >/dev/null   # the root must resolve
    find "$release/" -mindepth 1 -printf '%P\0' | sort -z |
      while IFS= read -r -d '' rel; do entry "$release/$rel" "$rel"; done
  fi
}

if $show_manifest; then
  manifest
else
  sum=$(manifest | sha256sum)   # pipefail: a failed record means no key is printed
  printf '%s\n' "${sum%% *}"
fi
