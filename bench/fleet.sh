#!/usr/bin/env bash
# Fleet benchmark: N clients fetching one release through README's nginx cache
# (`proxy_cache` + `slice 1m`, "Updating a fleet"), in front of an nginx origin on loopback.
#   origin bytes   what the origin's access log says it sent of the release's parts, for
#                  N = 1, 4 and 8 clients started together (cold cache each time), as a
#                  multiple of one download (target: 1.0x, whatever N)
#   wall time      8 clients through the cache vs 8 clients straight from the origin
#                  (started together, cold cache; median of RUNS rounds)
# Usage: bench/fleet.sh [SIZE_BYTES] [RUNS]. VOXCTL=/path/to/voxctl times another build.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-268435456}
RUNS=${2:-3}
ASSET=voicebox-server-cuda
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
W=$(mktemp -d /var/tmp/voxctl-fleet.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_nginx NAME PORT HTTP_EXTRA SERVER_EXTRA: a private nginx on 127.0.0.1:PORT.
start_nginx() {
  local d="$W/$1"; mkdir -p "$d"
  cat > "$d/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $d/nginx.pid; error_log $d/error.log;
events { worker_connections 1024; }
http {
  log_format vox '\$request_method \$uri \$status "\$http_range" \$body_bytes_sent';
  access_log $d/access.log vox; sendfile on; default_type application/octet-stream;
  client_body_temp_path $d/cb; proxy_temp_path $d/px; fastcgi_temp_path $d/fc;
  uwsgi_temp_path $d/uw; scgi_temp_path $d/sc;
  $3
  server { listen 127.0.0.1:$2; root $W/origin; $4 }
}
CONF
  "$NGINX" -p "$d" -e "$d/error.log" -c "$d/nginx.conf" & PIDS+=($!)
  for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return; sleep 0.05; done
  echo "nginx $1 did not start" >&2; cat "$d/error.log" >&2; exit 1
}

echo "making a $SIZE-byte release in $W/origin/v1"
mkdir -p "$W/origin"
head -c "$SIZE" /dev/urandom > "$W/$ASSET"
"$VOXCTL" split "$W/$ASSET" --out "$W/origin/v1" --variant cuda --part-size 100M >/dev/null

OPORT=$(free_port); start_nginx origin "$OPORT" "" ""
# README's configuration, verbatim but for the cache dir and the origin.
CONF=$(awk '/^## Updating a fleet/{s=1} s&&/^```nginx/{b=1;next} b&&/^```/{exit} b' README.md \
  | sed "s#/var/cache/nginx/voxctl#$W/cache#; s#http://origin.lan:8080#http://127.0.0.1:$OPORT#")
HTTP_PART=$(printf '%s\n' "$CONF" | sed '/# in the server { } block/,$d')
SERVER_PART=$(printf '%s\n' "$CONF" | sed -n '/# in the server { } block/,$p')

# clients N SOURCE: N fetches started together into fresh dirs; prints the wall time (s).
clients() {
  local n=$1 src=$2 t0 t1 pids=()
  rm -rf "$W/clients"; mkdir -p "$W/clients"
  t0=$(date +%s.%N)
  for i in $(seq "$n"); do
    VOXCTL_STATE_DIR="$W/clients/$i/state" "$VOXCTL" fetch --variant cuda -q --source "$src" \
      --data-dir "$W/clients/$i/data" >/dev/null & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  t1=$(date +%s.%N)
  for i in $(seq "$n"); do cmp -s "$W/$ASSET" "$W/clients/$i/data/backends/$ASSET"; done
  python3 -c "print(f'{$t1-$t0:.2f}')"
}

# fresh_proxy: a cache nginx with an empty cache; sets PPORT.
fresh_proxy() {
  [ -n "${PPID_PROXY:-}" ] && { kill "$PPID_PROXY"; wait "$PPID_PROXY" 2>/dev/null || true; }
  rm -rf "$W/cache" "$W/proxy"; mkdir -p "$W/cache"
  PPORT=$(free_port); start_nginx proxy "$PPORT" "$HTTP_PART" "$SERVER_PART"; PPID_PROXY=${PIDS[-1]}
}

origin_part_bytes() { awk '$2 ~ /\.part[0-9]+$/ && ($3==200 || $3==206) {s+=$NF} END {print s+0}' "$W/origin/access.log"; }

echo "## origin bytes for the release's parts, N clients through the cache (cold)"
for n in 1 4 8; do
  fresh_proxy; : > "$W/origin/access.log"
  t=$(clients "$n" "http://127.0.0.1:$PPORT/v1")
  b=$(origin_part_bytes)
  python3 -c "print(f'N={$n}: origin sent {$b} bytes = {$b/$SIZE:.3f}x one download ({$t} s)')"
done

echo "## wall time, 8 clients started together (median of $RUNS)"
via=(); direct=()
for r in $(seq "$RUNS"); do
  sync; direct+=("$(clients 8 "http://127.0.0.1:$OPORT/v1")")
  fresh_proxy; sync; via+=("$(clients 8 "http://127.0.0.1:$PPORT/v1")")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "direct from the origin: $(med "${direct[@]}") s (runs: ${direct[*]})"
echo "through the cache:      $(med "${via[@]}") s (runs: ${via[*]})"
