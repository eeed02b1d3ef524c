#!/usr/bin/env bash
# Benchmarks `mcp-gen hash` and `mcp-gen add` against their peers (nix-hash, sha256sum,
# cp -a, nix-store --add) on two real trees, checks the performance targets and writes
# bench/results.md. See bench/README.md.
#
# Environment:
#   BENCH_DIR  scratch directory for everything this script creates (default /var/tmp/mcp-gen-bench)
#   RUNS       timed runs per command (default 5; one extra warm-up run always precedes them)
#   QUIET_WAIT seconds to wait, before each command, for other CPU load to stop (default 60;
#              at most QUIET_BUDGET, default 600, over the whole run)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/var/tmp/mcp-gen-bench}"
RUNS="${RUNS:-5}"
QUIET_WAIT="${QUIET_WAIT:-60}"
QUIET_BUDGET="${QUIET_BUDGET:-600}"  # total waiting allowed over the whole run

TREES="$BENCH_DIR/trees"
OUT="$BENCH_DIR/out"          # hyperfine JSON, memory numbers, the index the report reads
SCRATCH="$BENCH_DIR/scratch"  # destinations of add/copy runs, emptied before every run
TRASH="$SCRATCH/trash"        # earlier runs' destinations, deleted after each tree's stage
SCRATCH_BUILD=".build-bench"  # relative to the repo root; ignored by .gitignore (.build-*/)
MCPGEN="$REPO_ROOT/$SCRATCH_BUILD/release/mcp-gen"

PYTHON_PACKAGES=(numpy scipy pandas mcp)
# Added one by one, only if the tree above comes out under PYTHON_MIN_MB.
PYTHON_EXTRA_PACKAGES=(matplotlib sympy scikit-learn pyarrow)
PYTHON_MIN_MB=300
BINARY_TARGET_BYTES=$((1536 * 1024 * 1024))

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
q() { printf '%q' "$1"; }  # quotes a path for the command strings hyperfine hands to sh

# --- 1. tools ---------------------------------------------------------------------------------

# apt-get as root, or through sudo when there is one.
as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

# Installs the peers and measuring tools that are missing; `apt-get update` at most once.
ensure_tools() {
  local missing=()
  command -v nix-hash >/dev/null && command -v nix-store >/dev/null || missing+=(nix-bin)
  command -v hyperfine >/dev/null || missing+=(hyperfine)
  [[ -x /usr/bin/time ]] || missing+=(time)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v chattr >/dev/null || missing+=(e2fsprogs)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  command -v python3 >/dev/null || die "python3 is required"
  python3 -m pip --version >/dev/null 2>&1 || die "python3 -m pip is required"
  command -v swift >/dev/null || die "swift is required"
}

# --- 2. the binary under test -----------------------------------------------------------------

# Release build in its own scratch path so it never disturbs the developers' .build, linked as
# statically as the machine allows (scripts/build-static.sh): no dynamic-loader work in any run.
build_mcp_gen() {
  log "building mcp-gen (release)"
  cd "$REPO_ROOT"
  local linked
  linked=$(scripts/build-static.sh -c release --scratch-path "$SCRATCH_BUILD" 2>"$OUT/build.log") \
    || { tail -30 "$OUT/build.log" >&2; die "swift build failed"; }
  BUILD_FLAVOR="release, $linked"
  [[ -x "$MCPGEN" ]] || die "no binary at $MCPGEN"
}

# --- 3. the trees -----------------------------------------------------------------------------
# Each tree is built under a temporary name and renamed when complete, so an interrupted run is
# redone rather than measured half-made.

mb_of() { du -sm "$1" | cut -f1; }

make_python_tree() {
  local dest="$TREES/python" tmp="$TREES/python.tmp"
  [[ -d "$dest" ]] && return
  log "creating the Python tree (pip install ${PYTHON_PACKAGES[*]})"
  rm -rf "$tmp"
  pip_target "$tmp" "${PYTHON_PACKAGES[@]}"
  local extra
  for extra in "${PYTHON_EXTRA_PACKAGES[@]}"; do
    (($(mb_of "$tmp") >= PYTHON_MIN_MB)) && break
    pip_target "$tmp" "$extra"
  done
  mv "$tmp" "$dest"
}

pip_target() {
  local target="$1"; shift
  python3 -m pip install --quiet --disable-pip-version-check --no-cache-dir --upgrade \
    --target "$target" "$@" 2>&1 | grep -v -e 'Running pip as the .root. user' -e 'WARNING: Target directory' >&2 || true
  [[ -d "$target" ]] || die "pip install into $target failed"
}

# Large binaries: the toolchain's usr/bin (compilers, linkers, LSP servers), as is, with its
# symlinks, when it is about the target size; otherwise its largest files up to that size.
make_binary_tree() {
  local dest="$TREES/binaries" tmp="$TREES/binaries.tmp"
  [[ -d "$dest" ]] && return
  local bin
  bin="$(dirname "$(readlink -f "$(command -v swift)")")"
  log "creating the binary tree from the Swift toolchain's usr/bin"
  rm -rf "$tmp"
  local total
  total=$(du -sb "$bin" | cut -f1)
  if ((total <= BINARY_TARGET_BYTES * 13 / 10)); then
    cp -a "$bin" "$tmp"
  else
    mkdir -p "$tmp"
    local sum=0 size path
    while IFS=$'\t' read -r size path; do
      ((sum + size > BINARY_TARGET_BYTES)) && continue
      cp -a "$path" "$tmp/"
      sum=$((sum + size))
    done < <(find "$bin" -maxdepth 1 -type f -printf '%s\t%p\n' | sort -rn)
  fi
  mv "$tmp" "$dest"
}

# --- 4. measuring -----------------------------------------------------------------------------

# Reads every file once so all tools start from the same warm page cache (the trees are a
# couple of GB; the benchmarks are about CPU and copying, not about this disk's read speed).
warm_cache() {
  find "$1" -type f -print0 | xargs -0 cat >/dev/null
}

# Percent of all CPUs busy over one second (this script is idle while sampling).
cpu_busy() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  local idle=$((b[4] - a[4] + b[5] - a[5]))
  echo $(((total - idle) * 100 / (total > 0 ? total : 1)))
}

# Other work on the machine (a build in another checkout, say) skews every number, so wait up
# to QUIET_WAIT seconds for the CPUs to go quiet; what was seen is recorded and reported.
wait_for_quiet() {
  local waited=0 busy
  busy=$(cpu_busy)
  while ((busy > 15 && waited < QUIET_WAIT && QUIET_BUDGET > 0)); do
    ((waited == 0)) && echo "    waiting for other load to settle (CPU ${busy}% busy)" >&2
    sleep 4; waited=$((waited + 5)); QUIET_BUDGET=$((QUIET_BUDGET - 5)); busy=$(cpu_busy)
  done
  BUSY_BEFORE=$busy
}

# measure TREE GROUP TOOL COMMAND [PREPARE]
# One hyperfine invocation per command, so each gets its own JSON and its own --prepare.
measure() {
  local tree="$1" group="$2" tool="$3" cmd="$4" prepare="${5:-}"
  local json="$OUT/$tree.$group.${tool//[^A-Za-z0-9]/_}.json"
  local args=(--warmup 1 --runs "$RUNS" --style basic --export-json "$json" --command-name "$tool")
  [[ -n "$prepare" ]] && args+=(--prepare "$prepare")
  echo "--- $tree / $group / $tool" >&2
  wait_for_quiet
  hyperfine "${args[@]}" "$cmd" >&2
  printf '%s\t%s\t%s\t%s\t%s\n' "$tree" "$group" "$tool" "$json" "$BUSY_BEFORE" >>"$OUT/index.tsv"
}

# The shell snippet hyperfine runs before every run of a command that writes DEST.
#
# Why each part:
# - The previous run's DEST must go (mcp-gen add would find its key stored and copy nothing).
#   Deleting thousands of files right before a run makes the next run's file creations slow
#   (ext4 skips recently freed inodes one by one; seconds on the Python tree), so trees with
#   many files are moved aside into $TRASH and deleted after their stage. Stored files of an
#   mcp-gen root carry the immutable flag when added as root: `chattr -R -i` before `rm -rf`.
# - `sync -f`: no run pays for the writeback of the run before it.
# - Touching memory: on VMs that hand freed guest memory back to the host (virtio-balloon free
#   page reporting), the first write to a page costs a host page fault, so writing a copy into
#   the page cache can be several times slower, at random. Touching some memory first and
#   freeing it gives the run recycled pages, as on bare metal; it costs about a second.
prepare_cmd() {
  local d clear
  d="$(q "$1")"
  if ((TREE_FILES > 1000)); then
    clear="mkdir -p $(q "$TRASH") && mv $d $(q "$TRASH")/\$(date +%s%N)"
  else
    clear="{ chattr -R -i $d 2>/dev/null || true; rm -rf $d; }"
  fi
  echo "if [ -e $d ]; then $clear; fi; sync -f $(q "$SCRATCH"); python3 -c 'bytearray(b\"x\") * $PREFAULT_BYTES'"
}

# Removes a destination (or $TRASH) now, immutable files included.
remove_now() {
  [[ -e "$1" ]] || return 0
  chattr -R -i "$1" 2>/dev/null || true
  rm -rf "$1"
}

# Per-tree settings for prepare_cmd: file count, and twice the tree's size of memory to touch
# (the copy's page cache plus slack), at most half of the memory available.
set_tree_params() {
  local stats="$OUT/$1.stats.json" avail_kb
  TREE_FILES=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["files"])' "$stats")
  local bytes
  bytes=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["bytes"])' "$stats")
  avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
  PREFAULT_BYTES=$((2 * bytes + (256 << 20)))
  ((PREFAULT_BYTES <= avail_kb * 512)) || PREFAULT_BYTES=$((avail_kb * 512))
}

bench_hash() {
  local name="$1" tree="$TREES/$1"
  measure "$name" hash mcp-gen "$(q "$MCPGEN") hash $(q "$tree")"
  measure "$name" hash nix-hash "nix-hash --type sha256 $(q "$tree")"
  measure "$name" hash sha256sum "find $(q "$tree") -type f -print0 | xargs -0 sha256sum >/dev/null"
}

bench_add() {
  local name="$1" tree="$TREES/$1"
  local root="$SCRATCH/mcp-root" copy="$SCRATCH/copy" nixroot="$SCRATCH/nix-root"
  measure "$name" add mcp-gen "$(q "$MCPGEN") add --root $(q "$root") $(q "$tree")" "$(prepare_cmd "$root")"
  measure "$name" add "cp -a" "cp -a $(q "$tree") $(q "$copy")" "$(prepare_cmd "$copy")"
  # mcp-gen add ends with syncfs; `sync -f` is the same call on the copy's file system.
  measure "$name" add "cp -a + sync" "cp -a $(q "$tree") $(q "$copy") && sync -f $(q "$copy")" "$(prepare_cmd "$copy")"
  # A chroot store (`local?root=`) keeps Nix in the scratch directory and needs no daemon.
  measure "$name" add "nix-store --add" \
    "nix-store --store $(q "local?root=$nixroot") --add $(q "$tree") >/dev/null" "$(prepare_cmd "$nixroot")"
  # Not a peer: the disk writing the tree's byte count as one O_DIRECT stream and flushing it,
  # a reference for what a copy that is durable when it reports success costs in disk time.
  local blocks
  blocks=$(python3 -c 'import json, sys; print(max(1, json.load(open(sys.argv[1]))["bytes"] >> 23))' "$OUT/$name.stats.json")
  measure "$name" add "dd oflag=direct" \
    "dd if=/dev/zero of=$(q "$copy") bs=8M count=$blocks oflag=direct conv=fsync status=none" "$(prepare_cmd "$copy")"
  remove_now "$root"; remove_now "$copy"; remove_now "$nixroot"
}

# Peak resident memory (KiB) of one mcp-gen run, from GNU time.
bench_memory() {
  local name="$1" tree="$TREES/$1" root="$SCRATCH/mcp-root"
  /usr/bin/time -f %M -o "$OUT/rss" "$MCPGEN" hash "$tree" >/dev/null
  printf '%s\thash\t%s\n' "$name" "$(tail -1 "$OUT/rss")" >>"$OUT/memory.tsv"
  remove_now "$root"
  /usr/bin/time -f %M -o "$OUT/rss" "$MCPGEN" add --root "$root" "$tree" >/dev/null
  printf '%s\tadd\t%s\n' "$name" "$(tail -1 "$OUT/rss")" >>"$OUT/memory.tsv"
  # The entry add made must sit under the key hash printed: a benchmark of a wrong result is moot.
  local key
  key="$("$MCPGEN" hash "$tree")"
  [[ -d "$root/store/$key" ]] || die "mcp-gen add did not store $name under its hash key $key"
  remove_now "$root"
}

# Files and bytes of a tree as mcp-gen counts them (regular files only).
tree_stats() {
  "$MCPGEN" hash --json "$TREES/$1" >"$OUT/$1.stats.json"
}

# Single-core SHA-256 rate of the same libcrypto mcp-gen links, 16 KiB blocks, in bytes/s.
openssl_rate() {
  log "openssl speed -evp sha256 (single core)"
  openssl speed -evp sha256 -seconds 3 2>/dev/null | tee "$OUT/openssl.txt" >&2
  # The result line starts with the algorithm name; its last column is 16384-byte blocks in kB/s.
  awk '/^sha256 / { v = $NF } END { sub(/k$/, "", v); printf "%.0f\n", v * 1000 }' "$OUT/openssl.txt" >"$OUT/openssl.rate"
  [[ -s "$OUT/openssl.rate" && "$(cat "$OUT/openssl.rate")" != 0 ]] || die "could not parse openssl speed"
}

write_versions() {
  local rev
  rev="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  git -C "$REPO_ROOT" diff --quiet HEAD -- Sources Package.swift 2>/dev/null || rev="$rev (uncommitted changes)"
  {
    printf 'mcp-gen\t%s, %s\n' "$rev" "$BUILD_FLAVOR"
    printf 'swift\t%s\n' "$(swift --version 2>&1 | grep -m1 -o 'Swift version [^ ]*')"
    printf 'nix\t%s\n' "$(nix-store --version)"
    printf 'coreutils\t%s\n' "$(cp --version | head -1)"
    printf 'openssl\t%s\n' "$(openssl version)"
    printf 'hyperfine\t%s\n' "$(hyperfine --version)"
    printf 'kernel\t%s\n' "$(uname -r)"
    printf 'cpu\t%s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    printf 'file system\t%s\n' "$(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 }')"
  } >"$OUT/versions.tsv"
}

# --- 5. report --------------------------------------------------------------------------------

# Reads everything under $OUT and prints the table, then writes it as Markdown too.
report() {
  python3 - "$OUT" "$REPO_ROOT/bench/results.md" "$(nproc)" "$RUNS" <<'PY'
import datetime, json, os, sys

out, md_path, cores, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def tsv(name):
    with open(os.path.join(out, name)) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]

median = {}   # (tree, group, tool) -> (median, stddev) seconds
order = []
busy = {}    # (tree, group, tool) -> % CPU busy with other work just before measuring
for tree, group, tool, path, cpu in tsv("index.tsv"):
    with open(path) as f:
        r = json.load(f)["results"][0]
    median[(tree, group, tool)] = (r["median"], r["stddev"] or 0.0)
    busy[(tree, group, tool)] = int(cpu)
    order.append((tree, group, tool))
rss = {(t, op): int(kb) / 1024 for t, op, kb in tsv("memory.tsv")}
stats = {}
for tree in dict.fromkeys(t for t, _, _ in order):
    with open(os.path.join(out, f"{tree}.stats.json")) as f:
        stats[tree] = json.load(f)
rate = float(open(os.path.join(out, "openssl.rate")).read())
versions = tsv("versions.tsv")

def ratio(tree, group, peer):
    return median[(tree, group, peer)][0] / median[(tree, group, "mcp-gen")][0]

def verdict(ok):
    return "PASS" if ok else "FAIL"

# --- the table
rows = []
for tree, group, tool in order:
    m, sd = median[(tree, group, tool)]
    r = "" if tool == "mcp-gen" else f"{ratio(tree, group, tool):.2f}x"
    gbps = stats[tree]["bytes"] / m / 1e9
    rows.append((tree, group, tool, f"{m:.3f}", f"{sd:.3f}", f"{gbps:.2f}", r,
                 f"{busy[(tree, group, tool)]}%"))
noisy = [k for k, v in busy.items() if v > 15]
warning = (f"WARNING: other load kept the CPUs busy before {len(noisy)} of {len(busy)} "
           "measurements (column 'busy before'); those numbers are skewed.") if noisy else ""

# --- the targets
targets = []
for tree in stats:
    r = ratio(tree, "hash", "nix-hash")
    targets.append((f"hash {tree}: >= 1.7x faster than nix-hash", f"{r:.2f}x", verdict(r >= 1.7)))
if "binaries" in stats:
    throughput = stats["binaries"]["bytes"] / median[("binaries", "hash", "mcp-gen")][0]
    frac = throughput / (rate * cores)
    targets.append((f"hash binaries: >= 80% of openssl x {cores} cores "
                    f"({rate * cores / 1e9:.2f} GB/s)",
                    f"{frac * 100:.0f}% ({throughput / 1e9:.2f} GB/s)", verdict(frac >= 0.8)))
for tree in stats:
    r = ratio(tree, "add", "cp -a")
    targets.append((f"add {tree}: no slower than cp -a", f"{r:.2f}x", verdict(r >= 1.0)))
    r = ratio(tree, "add", "nix-store --add")
    targets.append((f"add {tree}: >= 2x faster than nix-store --add", f"{r:.2f}x", verdict(r >= 2.0)))
for (tree, op), mb in rss.items():
    targets.append((f"peak RSS {op} {tree}: < 64 MB", f"{mb:.1f} MB", verdict(mb < 64)))

# info only: against cp -a followed by syncfs, the same durability mcp-gen add gives, and
# against the disk's own time to write the same number of bytes
info = [f"add {t} vs cp -a + sync: {ratio(t, 'add', 'cp -a + sync'):.2f}x" for t in stats]
info += [f"add {t} takes {1 / ratio(t, 'add', 'dd oflag=direct'):.2f}x the time dd takes to write "
         f"as many bytes with O_DIRECT ({median[(t, 'add', 'dd oflag=direct')][0]:.3f} s)"
         for t in stats if (t, 'add', 'dd oflag=direct') in median]

head = ("tree", "op", "tool", "median s", "stddev s", "GB/s", "peer/mcp-gen", "busy before")
def text_table(header, body):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths))] +
                     [fmt.format(*row) for row in body])
def md_table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(x) for x in row) + " |" for row in body])

trees_desc = {
    "python": "Python environment (pip --target numpy scipy pandas mcp)",
    "binaries": "Swift toolchain usr/bin (large binaries)",
}
tree_lines = [f"{t}: {trees_desc.get(t, t)}, {s['files']} files, {s['bytes'] / 1e6:.0f} MB"
              for t, s in stats.items()]

print()
print("\n".join(tree_lines))
print()
print(text_table(head, rows))
if warning:
    print("\n" + warning)
print()
print(f"openssl speed -evp sha256, 16 KiB blocks, one core: {rate / 1e9:.2f} GB/s; nproc = {cores}")
print()
print(text_table(("target", "measured", ""), targets))
print()
print("\n".join(info))

now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
md = [
    "# mcp-gen benchmark results",
    "",
    f"Generated by `bash bench/run.sh` on {now}; `nproc` = {cores}; "
    f"hyperfine, 1 warm-up + {runs} runs each, warm page cache; medians.",
    "",
    "Trees:",
    "",
    *[f"- {l}" for l in tree_lines],
    "",
    "## Timings",
    "",
    "`peer/mcp-gen` > 1 means mcp-gen is faster. GB/s is the tree's file bytes over the median.",
    "",
    md_table(head, rows),
    "",
    *([warning, ""] if warning else []),
    "`busy before`: share of all CPUs busy with other work in the second before the command's "
    "runs began.",
    "",
    f"`openssl speed -evp sha256` (16 KiB blocks, one core): {rate / 1e9:.2f} GB/s.",
    "",
    "## Targets",
    "",
    md_table(("target", "measured", "result"), targets),
    "",
    "For information (`cp -a` then `sync -f`, the same durability as mcp-gen's syncfs; and "
    "`dd oflag=direct conv=fsync` of the tree's byte count, the disk's own time to write that "
    "much durably in one stream):",
    "",
    *[f"- {l}" for l in info],
    "",
    "## Versions",
    "",
    md_table(("component", "version"), versions),
    "",
]
with open(md_path, "w") as f:
    f.write("\n".join(md))
print(f"\nwrote {md_path}")
PY
}

# --- main -------------------------------------------------------------------------------------

main() {
  local start=$SECONDS
  mkdir -p "$TREES" "$SCRATCH"
  rm -rf "$OUT" && mkdir -p "$OUT"
  ensure_tools
  build_mcp_gen
  make_python_tree
  make_binary_tree
  write_versions
  local tree
  # Few-file tree first: its deletions barely touch the inode allocator the Python tree needs.
  for tree in binaries python; do
    tree_stats "$tree"
    set_tree_params "$tree"
    log "tree $tree: $(cat "$OUT/$tree.stats.json")"
    warm_cache "$TREES/$tree"
    sync -f "$SCRATCH"
    bench_hash "$tree"
    bench_add "$tree"
    bench_memory "$tree"
    remove_now "$TRASH"
    sync -f "$SCRATCH"
  done
  openssl_rate
  report
  python3 "$REPO_ROOT/bench/chart.py" >&2
  log "done in $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s; scratch data in $BENCH_DIR"
}

main "$@"
