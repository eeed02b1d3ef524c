#!/usr/bin/env bash
# Builds mcp-gen and walks through its main job on the fixtures, against a scratch root
# (no root privileges, no set-up). Each command is printed before it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
swift build --product mcp-gen >&2
bin=$PWD/.build/debug/mcp-gen

scratch=$(mktemp -d "${TMPDIR:-/tmp}/mcp-gen-demo.XXXXXX")
export MCP_GEN_ROOT=$scratch/root

run() {
  printf '\n\033[1m$ mcp-gen %s\033[0m\n' "$*"
  "$bin" "$@" || printf '(exit status %d)\n' "$?"
}

run root
run config --init        # health checks: bin/mcp --help, bin/mcp status, bin/mcp check
run add fixtures/mcp-1.0
run switch fixtures/mcp-1.0
run switch fixtures/mcp-1.1
run switch fixtures/mcp-broken   # its `bin/mcp check` fails: mcp-gen rolls back by itself
run list
run log
run status
run audit
printf '\n$ cat %s/current/share/mcp/VERSION\n' "$MCP_GEN_ROOT"
cat "$MCP_GEN_ROOT/current/share/mcp/VERSION"
printf '\nThe scratch root is %s (remove it with: chattr -R -i %s 2>/dev/null; rm -rf %s)\n' "$MCP_GEN_ROOT" "$scratch" "$scratch"
