#!/usr/bin/env bash
# voxctl's differential update beside the usual tools, on the same pair, over loopback:
#
#   voxctl  `voxctl fetch` of release B (made by `voxctl split`: parts and chunk index, served by
#           nginx) over an install of A; it fsyncs the new file itself.
#   rsync   `rsync -I --stats` from an rsync daemon's module holding B onto a copy of A (the
#           rsync algorithm: the receiver's checksums go up, literal data and matches come
#           down), then `sync FILE`.
#   zsync   `zsync -i A` of B's control file (`zsyncmake`, made once, untimed) from nginx,
#           then `sync FILE`. Skipped when zsync or zsyncmake is not installed.
#   curl    the whole of B from nginx (no reuse: the baseline), then `sync FILE`.
#
# The pair: A is SIZE pseudo-random bytes and B is A with EDITS insertions, deletions and
# overwrites totalling CHANGE of its bytes (bench/delta_gen.py, seed SEED), or the files
# PAIR/a/NAME and PAIR/b/NAME given. Every tool starts each round from a fresh copy of A
# (copied and synced untimed before the round), so every tool also pays for freeing the old
# file when it renames the new one over it. Rounds are interleaved (each round runs every tool
# once, the order rotating by one each round) so that a change in the machine's load hits all
# tools alike. Page cache: everything fits in memory here, so every tool reads A and the
# server reads B from the cache (none of them is measured on a cold disk).
#
# Reported per round: each tool's wall time (and voxctl's peak RSS, with GNU time), and the bytes it downloaded (voxctl and zsync
# and curl: the sum of nginx's $body_bytes_sent for their requests; rsync: its own "Total
# bytes received"); then the medians and each tool's ratio to rsync's wall time. The results
# are checked against B with `cmp` after the last round.
#
# Usage: bench/delta_vs_rsync.sh
#   VOXCTL=PATH   measure that binary instead of building this tree's release build
#   RUNS=N        rounds [3]
#   JOBS=N        voxctl's --jobs [4]
#   SIZE=BYTES    synthetic asset size [2150000000]
#   CHANGE=F      share of A's bytes the edits change [0.03]
#   EDITS=N       number of edits [200]
#   SEED=N        generator seed [13]
#   PAIR=DIR      use DIR/a/voicebox-server-cpu and DIR/b/voicebox-server-cpu (left in place)
#                 instead of generating a pair
#   TOOLS="..."   the tools to run, among voxctl rsync zsync curl [all that are installed],
#                 and base: the voxctl binary VOXCTL_BASE, for before/after comparisons
#   VOXCTL_BASE=PATH  the binary `base` runs (another build of voxctl)
#   RATE=R        serve over a shaped link (tc units: 100mbit): nginx and the rsync daemon run
#                 in a network namespace behind a veth pair whose download direction a tbf
#                 qdisc limits to R, shared by every connection (bench/link.sh; needs root and
#                 iproute2); unset: plain loopback
#   KEEP=1        keep the work dir (under /var/tmp) for inspection
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
JOBS=${JOBS:-4}
SIZE=${SIZE:-2150000000}
CHANGE=${CHANGE:-0.03}
EDITS=${EDITS:-200}
SEED=${SEED:-13}
STEM=voicebox-server-cpu
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ -z "${TOOLS:-}" ]; then
  TOOLS="voxctl rsync"
  command -v zsync >/dev/null && command -v zsyncmake >/dev/null && TOOLS="$TOOLS zsync"
  TOOLS="$TOOLS curl"
fi
if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
V=$(realpath "$VOXCTL")
W=$(mktemp -d /var/tmp/voxctl-dvr.XXXXXX)
HOST=127.0.0.1
RUN=()
NS=
cleanup() {
  [ -n "${NGPID:-}" ] && kill "$NGPID" 2>/dev/null && wait "$NGPID" 2>/dev/null
  [ -n "${RSPID:-}" ] && kill "$RSPID" 2>/dev/null && wait "$RSPID" 2>/dev/null
  [ -z "$NS" ] || unshape_link "$NS"
  if [ -n "${KEEP:-}" ]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
mkdir -p "$W/ng" "$W/www/z" "$W/state" "$W/vx/data" "$W/rs" "$W/zs" "$W/cu" "$W/vb/data/backends" \
  "$W/vb/state"
chmod 700 "$W/state" "$W/vb/state"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The pair.
if [ -n "${PAIR:-}" ]; then
  A=$(realpath "$PAIR/a/$STEM")
  B=$(realpath "$PAIR/b/$STEM")
else
  need=$((SIZE * 9))
  free=$(df -B1 --output=avail "$W" | tail -1)
  if [ "$free" -lt "$need" ]; then
    echo "needs about $need B free in $W's filesystem, has $free B (try a smaller SIZE=)" >&2
    exit 1
  fi
  mkdir -p "$W/pair/a" "$W/pair/b"
  A=$W/pair/a/$STEM
  B=$W/pair/b/$STEM
  t0=$(date +%s)
  python3 bench/delta_gen.py "$SIZE" "$CHANGE" "$EDITS" "$SEED" "$A" "$B"
  echo "pair generated in $(($(date +%s) - t0)) s"
fi
size=$(stat -c %s "$B")

# nginx serves voxctl's release (www/b), and B itself with its zsync control file (www/z).
t0=$(date +%s)
part=1900000000
[ "$size" -gt "$part" ] || part=$((size * 55 / 100))
"$V" split -q --variant cpu --app-version 1.0.1 --part-size "$part" --out "$W/www/b" "$B" >/dev/null
ln "$B" "$W/www/z/$STEM" 2>/dev/null || cp "$B" "$W/www/z/$STEM"
case " $TOOLS " in
  *" zsync "*) (cd "$W/www/z" && zsyncmake -u "$STEM" -o "$STEM.zsync" "$STEM" >/dev/null) ;;
esac
# voxctl's starting point: A installed from a local release of it, its record kept.
"$V" split -q --variant cpu --app-version 1.0.0 --part-size "$part" --out "$W/rel-a" "$A" >/dev/null
"$V" fetch -q --variant cpu --data-dir "$W/vx/data" --state-dir "$W/state" --source "$W/rel-a" >/dev/null
cp "$W/vx/data/backends/$STEM.install.json" "$W/record-a.json"
rm -rf "$W/rel-a"
echo "releases made in $(($(date +%s) - t0)) s"

if [ -n "${RATE:-}" ]; then
  . bench/link.sh
  NS=vxdvr$$
  shape_link "$RATE" "$NS"
fi
PORT=$(free_port)
cat > "$W/ng/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $W/ng/nginx.pid; error_log $W/ng/error.log;
events { worker_connections 256; }
http { sendfile on; default_type application/octet-stream;
  log_format bytes '\$uri \$status \$body_bytes_sent';
  access_log $W/ng/access.log bytes;
  client_body_temp_path $W/ng/cb; proxy_temp_path $W/ng/px; fastcgi_temp_path $W/ng/fc;
  uwsgi_temp_path $W/ng/uw; scgi_temp_path $W/ng/sc;
  server { listen $HOST:$PORT; root $W/www; } }
CONF
: > "$W/www/ping"
"${RUN[@]}" "$NGINX" -p "$W/ng" -e "$W/ng/error.log" -c "$W/ng/nginx.conf" & NGPID=$!
URL=http://$HOST:$PORT
RPORT=$(free_port)
cat > "$W/rsyncd.conf" <<CONF
use chroot = no
uid = $(id -un)
gid = $(id -gn)
pid file = $W/rsyncd.pid
log file = $W/rsyncd.log
[b]
  path = $(dirname "$B")
  read only = yes
CONF
"${RUN[@]}" rsync --daemon --no-detach --config="$W/rsyncd.conf" --address="$HOST" --port="$RPORT" &
RSPID=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "$URL/ping" && rsync "rsync://$HOST:$RPORT/" >/dev/null 2>&1 && break
  sleep 0.05
done

echo "machine: $(nproc) cores, $(uname -srm), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "voxctl: $V ($("$V" --version)), --jobs $JOBS; $(rsync --version | head -1)"
[ -n "${VOXCTL_BASE:-}" ] && echo "base: $VOXCTL_BASE ($("$VOXCTL_BASE" --version))"
command -v zsync >/dev/null && echo "$(zsync -V 2>&1 | head -1); $(curl --version | head -1 | cut -d' ' -f1-2)"
echo "pair: A $(stat -c %s "$A") B, B $size B; tools: $TOOLS; $RUNS interleaved rounds"
echo "link: ${RATE:+$RATE shaped (tc tbf), server }$HOST"

# Bytes nginx sent since access-log line $1.
sent_since() {
  tail -n +"$(($1 + 1))" "$W/ng/access.log" | awk '{ s += $3 } END { print s + 0 }'
}

# reset TOOL: the tool's starting point (a fresh copy of A, or nothing), on disk.
reset() {
  case $1 in
    voxctl)
      rm -rf "$W/vx/data/backends/.partial"
      cp "$A" "$W/vx/data/backends/$STEM"
      chmod 755 "$W/vx/data/backends/$STEM"
      cp "$W/record-a.json" "$W/vx/data/backends/$STEM.install.json"
      ;;
    base)
      rm -rf "$W/vb/data/backends/.partial"
      cp "$A" "$W/vb/data/backends/$STEM"
      chmod 755 "$W/vb/data/backends/$STEM"
      sed "s#$W/vx/data#$W/vb/data#g" "$W/record-a.json" > "$W/vb/data/backends/$STEM.install.json"
      ;;
    rsync) cp "$A" "$W/rs/$STEM" ;;
    zsync) rm -f "$W/zs/$STEM" "$W/zs/$STEM.part" ;;
    curl) rm -f "$W/cu/$STEM" ;;
  esac
  sync
}

# run TOOL: the timed update; prints "WALL_S BYTES".
run() {
  local before t0 t1 bytes
  before=$(wc -l < "$W/ng/access.log")
  t0=$EPOCHREALTIME
  case $1 in
    voxctl)
      # GNU time's %M: voxctl's peak RSS in KiB, appended to rss.voxctl (reported at the end).
      /usr/bin/time -a -o "$W/rss.voxctl" -f %M \
        "$V" fetch -q --variant cpu --jobs "$JOBS" --data-dir "$W/vx/data" --state-dir "$W/state" \
        --source "$URL/b" >/dev/null
      ;;
    base)
      "$VOXCTL_BASE" fetch -q --variant cpu --jobs "$JOBS" --data-dir "$W/vb/data" \
        --state-dir "$W/vb/state" --source "$URL/b" >/dev/null
      ;;
    rsync)
      rsync -I --stats "rsync://$HOST:$RPORT/b/$(basename "$B")" "$W/rs/$STEM" > "$W/rsync.stats"
      sync "$W/rs/$STEM"
      ;;
    zsync)
      (cd "$W/zs" && zsync -q -i "$A" -o "$W/zs/$STEM" "$URL/z/$STEM.zsync" >/dev/null 2>&1)
      sync "$W/zs/$STEM"
      ;;
    curl)
      curl -sSf -o "$W/cu/$STEM" "$URL/z/$STEM"
      sync "$W/cu/$STEM"
      ;;
  esac
  t1=$EPOCHREALTIME
  if [ "$1" = rsync ]; then
    bytes=$(awk -F': ' '/^Total bytes received/ { gsub(/,/, "", $2); print $2 }' "$W/rsync.stats")
  else
    bytes=$(sent_since "$before")
  fi
  python3 -c "print(f'{$t1 - $t0:.3f} $bytes')"
}

read -ra tools <<< "$TOOLS"
n=${#tools[@]}
: > "$W/rounds.tsv"
for r in $(seq "$RUNS"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  line="round $r (load $load):"
  for i in $(seq 0 $((n - 1))); do
    t=${tools[$(((i + r - 1) % n))]}
    reset "$t"
    read -r wall bytes < <(run "$t")
    line="$line  $t $wall s"
    printf '%s\t%s\t%s\t%s\n' "$r" "$t" "$wall" "$bytes" >> "$W/rounds.tsv"
  done
  echo "$line"
done

# Every result is B.
for t in "${tools[@]}"; do
  case $t in
    voxctl) f=$W/vx/data/backends/$STEM ;;
    base) f=$W/vb/data/backends/$STEM ;;
    rsync) f=$W/rs/$STEM ;;
    zsync) f=$W/zs/$STEM ;;
    curl) f=$W/cu/$STEM ;;
  esac
  cmp "$f" "$B" || { echo "$t's result differs from B" >&2; exit 1; }
done
echo "every result = B (cmp)"
case " $TOOLS " in
  *" voxctl "*) echo "voxctl peak RSS: $(sort -n "$W/rss.voxctl" | tail -1) KiB (max of $RUNS runs, GNU time)" ;;
esac

python3 - "$W/rounds.tsv" "$size" <<'PY'
import statistics as st, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
size = int(sys.argv[2])
tools = list(dict.fromkeys(r[1] for r in rows))
wall = {t: [float(r[2]) for r in rows if r[1] == t] for t in tools}
got = {t: [int(r[3]) for r in rows if r[1] == t] for t in tools}
med = {t: st.median(wall[t]) for t in tools}
for t in tools:
    print(f"RESULT {t:7} median {med[t]:7.2f} s (rounds {' '.join(f'{x:.2f}' for x in wall[t])}), "
          f"downloaded {st.median(got[t]):,.0f} B = {st.median(got[t]) / size * 100:.2f}% of B")
if "rsync" in med:
    print("RATIO wall / rsync's: " + ", ".join(f"{t} {med[t] / med['rsync']:.2f}x" for t in tools))
    # Within a round the tools ran back to back: the per-round ratio cancels most of a
    # changing load.
    rounds = sorted({r[0] for r in rows})
    at = {(r[0], r[1]): float(r[2]) for r in rows}
    print("RATIO per round / rsync's (median): " + ", ".join(
        f"{t} {st.median(at[(k, t)] / at[(k, 'rsync')] for k in rounds):.2f}x" for t in tools))
if "voxctl" in med:
    print("RATIO wall / voxctl's: " + ", ".join(f"{t} {med[t] / med['voxctl']:.2f}x" for t in tools))
PY
