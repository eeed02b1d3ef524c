#!/usr/bin/env bash
# Remote releases (issue 20) against their peers, measured in the same run, from nginx on
# 127.0.0.1 (started here, its own config and log in the work directory):
#   full pull of the Python tree  vs  curl fetching the same objects into a directory + sync,
#                                 vs  ostree pull of the same tree from an archive repository;
#   an update that changes 1% of the files: bytes on the wire (nginx's log) and time;
#   a pull when nothing changed: time, and which files it asked for;
#   publish of the tree           vs  add of it.
# Needs the Python tree of bench/run.sh (BENCH_DIR/trees/python). Prints a table and writes
# bench/results-remote.md. About 5 minutes on 2 cores.
#   MCP_GEN=path/to/mcp-gen  use that binary instead of building a static release one
#   TREE=DIR                 another tree (a quick trial of the script)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
base=${BENCH_DIR:-/var/tmp/mcp-gen-bench}
work=$base/remote
runs=${RUNS:-5}
tree=${TREE:-$base/trees/python}
[ -d "$tree" ] || { echo "run bench/run.sh first (it builds $tree)" >&2; exit 1; }

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v ostree >/dev/null || need+=(ostree)
command -v nginx >/dev/null || need+=(nginx)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
source scripts/deps.sh
bin=${MCP_GEN:-}
if [ -z "$bin" ]; then
  scripts/build-static.sh -c release --scratch-path .build-bench --product mcp-gen >/dev/null || exit 1
  bin=$repo/.build-bench/release/mcp-gen
fi

chattr -R -i "$work" 2>/dev/null || true
rm -rf "$work"
mkdir -p "$work"/{srv,nginx,keys,trash}
cd "$work"
# ext4 without a journal (this machine's /) skips, for every new inode, the inodes deleted in the
# last 30 s (dirty_expire_centisecs), one by one: a mkdir or create right after a tree of
# thousands of files was removed costs seconds of system time. So nothing is deleted while a
# command is timed or just before: every prepare moves the previous output into trash/ (removed
# at the end), ends with sync (its copies are not the measured command's to write back), and the
# removal above gets 31 s to age.
sleep 31
# (hyperfine's sh has no $RANDOM: the time in nanoseconds names each.)
aside() { echo "for d in $*; do if [ -e \$d ]; then mv \$d trash/\$(date +%s%N); fi; done"; }
# Every timed run starts from the same caches: written back (sync), then, where this user may,
# dropped, and the files the run reads (what nginx serves, the stored release an update shares)
# read back in. Without the drop, this kernel's block-device cache grows from run to run, and
# ext4's inode allocation (which looks up an inode table block there for every new file) slows
# down with it: the same curl went from 1.1 s to 4 s over a session.
cat > settle.sh <<'SETTLE'
sync
if [ -w /proc/sys/vm/drop_caches ]; then
  echo 3 > /proc/sys/vm/drop_caches
  for d in srv "$@"; do find "$d" -type f -exec cat {} + > /dev/null; done
fi
SETTLE
settle="sh $work/settle.sh"

# nginx on a free port, serving srv/.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > nginx/nginx.conf <<EOF
daemon on;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
worker_processes 2;
events { worker_connections 1024; }
http {
  access_log $work/nginx/access.log;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  server { listen 127.0.0.1:$port; root $work/srv; }
}
EOF
nginx -c "$work/nginx/nginx.conf"
trap 'nginx -c "$work/nginx/nginx.conf" -s stop 2>/dev/null || true' EXIT
url=http://127.0.0.1:$port

# The publisher: keys, a root with the tree, the remote.
for k in root targets online; do "$bin" key generate "keys/$k" >/dev/null; done
pub=$work/publisher
key1=$("$bin" add --root "$pub" "$tree" --label py-1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
publish_init() { "$bin" publish init "$1" --root-key keys/root --targets-key keys/targets --online-key keys/online >/dev/null; }
publish() { "$bin" publish --root "$pub" "$1" "$2" --channel stable --targets-key keys/targets --online-key keys/online >/dev/null; }
publish_init srv/r
publish srv/r "$key1"

# 1% of the files changed (every 100th file gets a line more), published as a second remote.
tree2=$work/python-2
cp -a "$tree" "$tree2"
changed=0; changed_bytes=0
while IFS= read -r -d '' f; do
  changed=$((changed + 1))
  echo "# changed" >> "$f"
  changed_bytes=$((changed_bytes + $(stat -c %s "$f")))
done < <(find "$tree2" -type f -print0 | LC_ALL=C sort -z | awk 'BEGIN{RS="\0";ORS="\0"} NR%100==0')
key2=$("$bin" add --root "$pub" "$tree2" --label py-2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
cp -a srv/r srv/r2
publish srv/r2 "$key2"

# Peer 1: curl fetching exactly the objects of the release into a directory, then sync.
find srv/r/objects -type f -printf '%P\n' | awk -v u="$url/r/objects/" '{print "url = \"" u $0 "\""; print "output = \"curl-out/" $0 "\""}' > curl-urls.cfg
nobj=$(find srv/r/objects -type f | wc -l)
# Peer 2: ostree pull from an archive repository of the same tree, served by the same nginx.
ostree init --repo=srv/ostree --mode=archive
ostree commit --repo=srv/ostree --branch=py --tree=dir="$tree" >/dev/null
ostree summary --repo=srv/ostree -u

# One untimed run of each first: the first pull after the set-up above (which removed the last
# run's trees) took about twice as long as the rest in every run, and only mcp-gen, timed first, paid it.
hyperfine --runs "$runs" --warmup 1 --export-json full.json \
  -n "mcp-gen pull" --prepare "$(aside client); $bin remote add --root client r $url/r --trust srv/r/metadata/1.root.json >/dev/null && $settle" \
  "$bin pull --root client r" \
  -n "curl + sync" --prepare "$(aside curl-out); mkdir curl-out && $settle" \
  "curl -sS --fail --parallel --parallel-max 16 --create-dirs -K curl-urls.cfg && sync" \
  -n "ostree pull" --prepare "$(aside ost); ostree init --repo=ost --mode=bare-user && ostree remote add --repo=ost --no-gpg-verify srv $url/ostree && $settle" \
  "ostree pull --repo=ost srv py >/dev/null && sync"

# The update: a client with release 1 pulls release 2 (the remote r2 has both).
: > nginx/access.log
eval "$(aside upd)"; "$bin" remote add --root upd r "$url/r2" --trust srv/r2/metadata/1.root.json >/dev/null
"$bin" pull --root upd r --release "$key1" >/dev/null
nginx -c "$work/nginx/nginx.conf" -s reopen; : > nginx/access.log
"$bin" pull --root upd r --json > update.json
sleep 0.2
update_bytes=$(awk '{s += $10} END {print s+0}' nginx/access.log)
# Split by what was asked for: file contents, the release's manifest (a target), TUF metadata.
update_object_bytes=$(awk '$7 ~ /\/objects\// {s += $10} END {print s+0}' nginx/access.log)
update_manifest_bytes=$(awk '$7 ~ /\/targets\// {s += $10} END {print s+0}' nginx/access.log)
# Timed update runs from a copy of the client that has only release 1. cp -a drops the
# immutable flag that add leaves on every stored file and directory as root (store-layout.md
# section 3); the copy gets it back, so the update pays what it pays on a real root (the flag
# cleared and set around each link to a shared stored file).
eval "$(aside upd-base)"; "$bin" remote add --root upd-base r "$url/r2" --trust srv/r2/metadata/1.root.json >/dev/null
"$bin" pull --root upd-base r --release "$key1" >/dev/null
immutable="find upd/store -mindepth 1 \\( -type f -o -type d \\) -exec chattr +i {} +"
hyperfine --runs "$runs" --export-json update-time.json \
  -n "mcp-gen pull (1% changed)" --prepare "$(aside upd); cp -a upd-base upd && $immutable && $settle upd/store" \
  "$bin pull --root upd r"

# Nothing changed: what is asked for, and how long it takes.
: > nginx/access.log
"$bin" pull --root upd r >/dev/null
sleep 0.2
nochange_requests=$(awk '{print $7, $9}' nginx/access.log | tr '\n' ';')
hyperfine --runs 30 --warmup 3 --export-json nochange.json -n "mcp-gen pull (nothing changed)" "$bin pull --root upd r"

# publish vs add of the tree.
hyperfine --runs "$runs" --export-json publish.json \
  -n "mcp-gen add" --prepare "$(aside addroot); $settle $tree" "$bin add --root addroot $tree" \
  -n "mcp-gen publish" --prepare "$(aside srv/p); $bin publish init srv/p --root-key keys/root --targets-key keys/targets --online-key keys/online >/dev/null && $settle $pub/store" \
  "$bin publish --root $pub srv/p $key1 --channel stable --targets-key keys/targets --online-key keys/online"

python3 - "$work" "$repo/bench/results-remote.md" "$nobj" "$changed" "$changed_bytes" "$update_bytes" "$update_object_bytes" "$update_manifest_bytes" "$nochange_requests" "$(du -sb "$tree" | cut -f1)" "$(nproc)" "$runs" <<'PY'
import json, sys
work, out, nobj, changed, changed_bytes, update_bytes, object_bytes, manifest_bytes, requests, tree_bytes, cores, runs = sys.argv[1:]
def mean(f, i=0, stat="mean"):
    return json.load(open(f"{work}/{f}"))["results"][i][stat]
full, curl, ostree = mean("full.json", 0), mean("full.json", 1), mean("full.json", 2)
upd, noch = mean("update-time.json"), mean("nochange.json")
# This VM's disk makes single runs swing by 2x or more: medians beside the means.
full_m, curl_m, upd_m = mean("full.json", 0, "median"), mean("full.json", 1, "median"), mean("update-time.json", 0, "median")
add, pub = mean("publish.json", 0), mean("publish.json", 1)
rows = [
    ("full pull, Python tree (%s objects, %.0f MB)" % (nobj, int(tree_bytes) / 1e6), "%.2f s (median %.2f s)" % (full, full_m),
     "curl + sync %.2f s: %.2fx (target <= 1.3x; medians %.2f s, %.2fx); ostree pull %.2f s: %.2fx (target < 1)"
     % (curl, full / curl, curl_m, full_m / curl_m, ostree, full / ostree)),
    ("update, %s files (1%%) changed" % changed, "%.2f s (median %.2f s)" % (upd, upd_m),
     "%.1f%% of the full pull (target <= 10%%; medians %.1f%%)" % (100 * upd / full, 100 * upd_m / full_m)),
    ("update: bytes on the wire", "%d" % int(update_bytes),
     "objects %d for %d bytes of changed files (%.2fx); manifest %d; TUF metadata %d; "
     "all %.2fx the changed files plus metadata (target <= 1.1x), %.2fx the changed files alone"
     % (int(object_bytes), int(changed_bytes), int(object_bytes) / int(changed_bytes), int(manifest_bytes),
        int(update_bytes) - int(object_bytes) - int(manifest_bytes),
        int(update_bytes) / (int(changed_bytes) + int(update_bytes) - int(object_bytes)),
        int(update_bytes) / int(changed_bytes))),
    ("pull, nothing changed", "%.1f ms" % (noch * 1000), "target <= 20 ms; requests: %s" % requests),
    ("publish of the Python tree", "%.2f s" % pub, "add %.2f s: %.2fx (target <= 1.5x)" % (add, pub / add)),
]
text = ["# Remote releases: last run of bench/remote.sh", "",
        "nginx on 127.0.0.1, %s cores; means (and medians) of %s hyperfine runs (peers in the same run)." % (cores, runs), "",
        "| what | mcp-gen | against |", "| --- | --- | --- |"]
text += ["| %s | %s | %s |" % r for r in rows]
open(out, "w").write("\n".join(text) + "\n")
print("\n".join(text))
PY
chattr -R -i trash 2>/dev/null || true
rm -rf trash
