#!/usr/bin/env bash
# Checks two behaviours of the peers that the README's comparison states, on this machine:
#  1. Nix's `nix-env --rollback` after A, B, rollback (A), switch to C: where does it land?
#     (mcp-gen follows the recorded history back to A; see the "Nix's bug" history test.)
#  2. What `ln -sfn` (the old upgrade script's switch, and Capistrano's) does at the syscall
#     level: replace through a temporary name and rename(2), or unlink then symlink; and whether
#     it fsyncs anything.
# Needs nix-bin and strace (installed when missing, as root).
set -euo pipefail
need=()
command -v nix-env >/dev/null || need+=(nix-bin)
command -v strace >/dev/null || need+=(strace)
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/peer-behaviour.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

mkdir A B C
ln -s "$work/A" p-1-link && ln -s p-1-link p          # generation 1 = A, current
ln -s "$work/B" p-2-link
nix-env --profile "$work/p" --switch-generation 2 2>/dev/null   # B
nix-env --profile "$work/p" --rollback 2>/dev/null              # back to A
ln -s "$work/C" p-3-link
nix-env --profile "$work/p" --switch-generation 3 2>/dev/null   # C
nix-env --profile "$work/p" --rollback 2>/dev/null
landed=$(basename "$(readlink -f p)")
echo "nix-env $(nix-env --version | awk '{print $NF}'): A, B, rollback, C, rollback lands on $landed (mcp-gen: A)"

ln -s A cur
calls=$(strace -f -e trace=%file,%desc -o /dev/stdout ln -sfn B cur 2>/dev/null \
  | grep -oE '(symlinkat|unlinkat|unlink|renameat2?|rename|fsync|fdatasync|syncfs)\(' | tr -d '(' | paste -sd' ')
echo "ln -sfn ($(ln --version | head -1)): $calls"
