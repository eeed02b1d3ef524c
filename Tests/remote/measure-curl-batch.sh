#!/bin/bash
# Measures what the transport's design rests on: N small objects from nginx on loopback,
# (a) one curl process driving every transfer (`--parallel --config -`, as CurlFetcher.fetchAll),
# (b) one curl process per object (what a libcurl-less per-file loop would cost),
# (c) one curl process, sequential transfers over one connection (`--config -` without --parallel).
# Usage: measure-curl-batch.sh [N] [SIZE] [PARALLEL]   (defaults: 9000 objects of 4096 bytes, 16)
set -euo pipefail
n=${1:-9000}
size=${2:-4096}
parallel=${3:-16}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mcp-gen-curl-measure.XXXXXX")
trap '[ -f "$scratch/nginx.pid" ] && kill "$(cat "$scratch/nginx.pid")" 2>/dev/null; rm -rf "$scratch"' EXIT
mkdir -p "$scratch/site/objects" "$scratch/out"
python3 - "$scratch/site/objects" "$n" "$size" <<'EOF'
import os, sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    sub = os.path.join(d, "%02x" % (i % 256))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "%062x" % i), "wb") as f:
        f.write(os.urandom(size))
EOF
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$scratch/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $scratch/nginx.pid;
error_log $scratch/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $scratch/cb; proxy_temp_path $scratch/p; fastcgi_temp_path $scratch/f;
  uwsgi_temp_path $scratch/u; scgi_temp_path $scratch/s;
  sendfile on; keepalive_requests 100000;
  server { listen 127.0.0.1:$port; root $scratch/site; }
}
EOF
"$nginx" -p "$scratch" -c "$scratch/nginx.conf" -e "$scratch/error.log"
sleep 0.5
url="http://127.0.0.1:$port"
paths=$(cd "$scratch/site" && find objects -type f | sort)

config() {  # one operation per object, as CurlFetcher.fetchAll writes them
  local i=0
  while read -r p; do
    [ $i -gt 0 ] && echo next
    printf 'silent\nshow-error\nfail\nmax-filesize = %s\nwrite-out = "%%{stderr}%%{urlnum}\\t%%{exitcode}\\t%%{http_code}\\t%%{size_download}\\t%%{errormsg}\\n"\nurl = "%s/%s"\noutput = "%s/out/%s"\n' \
      "$size" "$url" "$p" "$scratch" "${p//\//_}"
    i=$((i + 1))
  done <<< "$paths"
}
config > "$scratch/config"

run() {  # name, command...
  rm -rf "$scratch/out"; mkdir "$scratch/out"
  local start end
  start=$(date +%s.%N)
  "${@:2}" > /dev/null 2>&1 || true
  end=$(date +%s.%N)
  printf '%-44s %6.2f s  (%s files)\n' "$1" "$(echo "$end - $start" | bc)" "$(find "$scratch/out" -type f | wc -l)"
}
echo "$n objects of $size bytes from nginx on 127.0.0.1, load: $(cut -d' ' -f1-3 /proc/loadavg)"
run "one curl, --parallel --parallel-max $parallel" curl -q --no-progress-meter --parallel --parallel-immediate --parallel-max "$parallel" --config "$scratch/config"
run "one curl, sequential (one connection)" curl -q --no-progress-meter --config "$scratch/config"
per_file() {
  while read -r p; do curl -q -sS --fail -o "$scratch/out/${p//\//_}" "$url/$p"; done <<< "$paths"
}
run "one curl process per object" per_file
