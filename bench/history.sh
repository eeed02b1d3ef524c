#!/usr/bin/env bash
# History without replay (issue 19, item 4): `status`, `switch KEY` and `rollback` on a root with
# 10,000 generations and a long journal (HISTORY_LINES, default 100,000 lines: 10,000 switches and
# pin/unpin lines between them) against the same commands on a fresh root, in the same run.
# Releases are tiny, so the history, not hashing, is what the ratio shows. Prints the ratios.
#
#   bash bench/history.sh                 # builds the release binary (.build-bench/release/mcp-gen)
#   MCP_GEN=path/to/mcp-gen bash bench/history.sh
#   BEFORE=path/to/old/mcp-gen bash bench/history.sh   # also the ratios of a binary without checkpoints
#
# A debug binary also gives the ratio without a checkpoint (full replay, as before it) by setting
# MCP_GEN_DEBUG_CHECKPOINT_LINES so high that no checkpoint is ever written.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=${BENCH_DIR:-/var/tmp/mcp-gen-bench}/history
runs=${RUNS:-20}
lines=${HISTORY_LINES:-100000}
command -v hyperfine >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null; }
bin=${MCP_GEN:-}
if [ -z "$bin" ]; then
  # Linked as generations.sh and `make install` link it (a static executable where it can be).
  nice scripts/build-static.sh -c release --scratch-path .build-bench --product mcp-gen >/dev/null || exit 1
  bin=$repo/.build-bench/release/mcp-gen
fi

chattr -R -i "$work" 2>/dev/null || true
rm -rf "$work"
mkdir -p "$work"
cd "$work"
fresh=$work/fresh
ka=$("$bin" add --root "$fresh" "$repo/fixtures/mcp-1.0" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
kb=$("$bin" add --root "$fresh" "$repo/fixtures/mcp-1.1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
"$bin" switch --root "$fresh" "$kb" >/dev/null
template=$work/template
cp -a "$fresh" "$template"

# 10,000 generations, as 10,000 switches would leave them, and `lines` journal lines.
big=$work/big
cp -a "$fresh" "$big"
python3 - "$big" "$ka" "$kb" "$lines" <<'PY'
import json, os, sys
root, ka, kb, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
gens = os.path.join(root, "generations")
for n in os.listdir(gens): os.unlink(os.path.join(gens, n))
filler = max(0, total - 10000) // 10000
with open(os.path.join(root, "journal.jsonl"), "w") as j:
    def line(**r):
        j.write(json.dumps(dict(time="2026-11-25T12:00:00Z", pid=1, user="root", command="mcp-gen switch", **r), separators=(",", ":")) + "\n")
    for n in range(1, 10001):
        key = ka if n % 2 else kb
        os.symlink("../store/" + key, os.path.join(gens, str(n)))
        line(op="switch", to=n, key=key, source="/srv/releases/r%d" % n, outcome="ok", **({"from": n - 1} if n > 1 else {}))
        for i in range(filler):
            line(op="pin" if i % 2 == 0 else "unpin", to=n, outcome="ok")
os.unlink(os.path.join(root, "current")); os.symlink("generations/10000", os.path.join(root, "current"))
PY
echo "journal: $(wc -l < "$big/journal.jsonl") lines, $(du -h "$big/journal.jsonl" | cut -f1); generations: $(ls "$big/generations" | wc -l)"
# The first change writes the checkpoint (the journal has no checkpoint yet).
"$bin" switch --root "$big" "$ka" >/dev/null

hf() { hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$1.json" "${@:2}" >/dev/null 2>&1; }
measure() {  # measure NAME BIN ROOT [ENV...]
  local name=$1 b=$2 r=$3
  hf "$name-status" "$b status --root $r"
  hf "$name-switch" --prepare "$b switch --root $r $kb" "$b switch --root $r $ka"
  hf "$name-rollback" --prepare "$b switch --root $r $kb" "$b rollback --root $r"
}
measure fresh "$bin" "$fresh"
measure big "$bin" "$big"
compare=(big)
if [ -n "${BEFORE:-}" ]; then
  cp -a "$big" "$work/before" && rm -f "$work/before/checkpoint.json"
  measure before "$BEFORE" "$work/before"
  compare+=(before)
fi
if [ -z "${BEFORE:-}" ] && MCP_GEN_DEBUG_CHECKPOINT_LINES=1000000000 "$bin" status --root "$fresh" >/dev/null 2>&1 \
  && [ -n "$(strings "$bin" | grep -m1 MCP_GEN_DEBUG_CHECKPOINT_LINES || true)" ]; then
  cp -a "$big" "$work/replay" && rm -f "$work/replay/checkpoint.json"
  export MCP_GEN_DEBUG_CHECKPOINT_LINES=1000000000
  measure replay "$bin" "$work/replay"
  unset MCP_GEN_DEBUG_CHECKPOINT_LINES
  compare+=(replay)
fi
python3 - "$work" "${compare[@]}" <<'PY'
import json, os, sys
work, names = sys.argv[1], sys.argv[2:]
def median(n): return json.load(open(os.path.join(work, n + ".json")))["results"][0]["median"] * 1000
label = {"big": "checkpoint + tail", "before": "BEFORE binary, whole journal", "replay": "no checkpoint, whole journal"}
print("| command | fresh root ms | " + " | ".join("%s ms | ratio" % label[n] for n in names) + " |")
print("|---|---|" + "---|---|" * len(names))
for c in ("status", "switch", "rollback"):
    f = median("fresh-" + c)
    print("| %s | %.1f | " % (c, f) + " | ".join("%.1f | %.2fx" % (median(n + "-" + c), median(n + "-" + c) / f) for n in names) + " |")
PY
