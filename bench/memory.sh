#!/usr/bin/env bash
# Peak memory (issue 19: under 64 MB for any command on a root with a 1 GiB journal). A root with
# 10,000 generations whose journal is filled to JOURNAL_MB (default 1024) with pin and unpin lines
# (about 9 million lines), then the peak resident set (`/usr/bin/time -f %M`, the kernel's VmHWM)
# of each command on it: first `switch` on the root as an older release left it (no checkpoint
# yet: the whole journal is replayed once to write one), then with the checkpoint.
# Prints a table and writes bench/results-memory.md (RESULTS=FILE writes elsewhere).
#
#   bash bench/memory.sh                  # builds the release binary (.build-bench/release/mcp-gen)
#   MCP_GEN=path/to/mcp-gen bash bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=${BENCH_DIR:-/var/tmp/mcp-gen-bench}/memory
mb=${JOURNAL_MB:-1024}
results=${RESULTS:-$repo/bench/results-memory.md}
limit_kb=$((64 * 1024))
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
bin=${MCP_GEN:-}
if [ -z "$bin" ]; then
  # Linked as generations.sh and `make install` link it (a static executable where it can be).
  nice scripts/build-static.sh -c release --scratch-path .build-bench --product mcp-gen >/dev/null || exit 1
  bin=$repo/.build-bench/release/mcp-gen
fi

chattr -R -i "$work" 2>/dev/null || true
rm -rf "$work"
mkdir -p "$work"
root=$work/root
ka=$("$bin" add --root "$root" "$repo/fixtures/mcp-1.0" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
kb=$("$bin" add --root "$root" "$repo/fixtures/mcp-1.1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
"$bin" switch --root "$root" "$kb" >/dev/null
python3 - "$root" "$ka" "$kb" "$mb" <<'PY'
import json, os, sys
root, ka, kb, mb = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
gens = os.path.join(root, "generations")
for n in os.listdir(gens): os.unlink(os.path.join(gens, n))
os.unlink(os.path.join(root, "journal.jsonl"))
size = mb << 20
def line(**r):
    return json.dumps(dict(time="2026-11-25T12:00:00Z", pid=1, user="root", command="mcp-gen pin", **r), separators=(",", ":")) + "\n"
with open(os.path.join(root, "journal.jsonl"), "w", buffering=1 << 20) as j:
    written = 0
    for n in range(1, 10001):
        key = ka if n % 2 else kb
        os.symlink("../store/" + key, os.path.join(gens, str(n)))
        s = line(op="switch", to=n, key=key, source="/srv/releases/r%d" % n, outcome="ok", **({"from": n - 1} if n > 1 else {}))
        j.write(s); written += len(s)
        # The pin and unpin lines between switches fill the journal to its size.
        block = "".join(line(op="pin" if i % 2 == 0 else "unpin", to=n, outcome="ok") for i in range(64))
        while written < size * n // 10000:
            j.write(block); written += len(block)
os.unlink(os.path.join(root, "current")); os.symlink("generations/10000", os.path.join(root, "current"))
PY
journal_size=$(stat -c %s "$root/journal.jsonl")
journal_lines=$(wc -l < "$root/journal.jsonl")
echo "journal: $journal_lines lines, $((journal_size >> 20)) MiB; generations: $(ls "$root/generations" | wc -l)"

peak() {  # peak LABEL ARGS...: peak RSS in kB, and seconds, of one run (its output discarded)
  local label=$1; shift
  /usr/bin/time -o "$work/time.txt" -f '%M %e' "$bin" "$@" --root "$root" >/dev/null 2>&1 || true
  local out; out=$(tail -1 "$work/time.txt")
  rows+=("$label|${out% *}|${out#* }")
}
rows=()
peak "switch KEY, no checkpoint yet (replays the whole journal, writes the checkpoint)" switch "$ka"
peak "status" status
peak "list" list
peak "list --json" list --json
peak "switch KEY" switch "$kb"
peak "rollback" rollback
peak "log -n 20" log -n 20
peak "log (every record, output discarded)" log
peak "audit" audit
rm -f "$root/checkpoint.json"
peak "status, no checkpoint" status
peak "list, no checkpoint" list

{
  echo "# Peak memory (issue 19: under 64 MB on a root with a 1 GiB journal)"
  echo
  echo "\`bash bench/memory.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)."
  echo "Journal of $journal_lines lines, $((journal_size >> 20)) MiB (10,000 switches, pin and unpin lines between them);"
  echo "10,000 generations. Peak resident set (\`/usr/bin/time -f %M\`, VmHWM) of one run each."
  echo
  echo "| command | peak MB | seconds | under 64 MB |"
  echo "|---|---|---|---|"
  fail=0
  for r in "${rows[@]}"; do
    IFS='|' read -r label kb secs <<<"$r"
    ok=PASS; [ "$kb" -lt "$limit_kb" ] || { ok=FAIL; fail=1; }
    printf '| %s | %.1f | %s | %s |\n' "$label" "$(awk "BEGIN{print $kb/1024}")" "$secs" "$ok"
  done
} | tee "$results"
chattr -R -i "$work" 2>/dev/null || true
rm -rf "$work"
! grep -q FAIL "$results"
