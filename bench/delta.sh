#!/usr/bin/env bash
# Differential fetch benchmark, in two parts:
#
#   real       The PyInstaller pair of tests/fixtures/pyinstaller (built or taken from its cache
#              by its build.sh): old and new, each split by `voxctl split` (2 parts:
#              --part-size 10MB) into releases v1/ and v2/ served by nginx. v1 is installed
#              (`fetch --variant cpu`), then the update to v2 is fetched. Reported: the bytes
#              nginx sent for v2's files during the update (sum of $body_bytes_sent in its
#              access log: the index, manifests and every range) as a share of the new asset
#              (target <= 5%), the requests, the index's size as a share of the asset (target
#              <= 0.5%), and beside them what voxctl's --json events say (delta_planned,
#              installed: to_download, downloaded, reused, requests). The install is compared
#              with the new build byte for byte.
#   synthetic  A SIZE-byte random asset A and B = A with EDITS insertions, deletions and
#              overwrites at random places totalling CHANGE of its bytes (bench/delta_gen.py,
#              seed SEED), each split into 2 parts (split's default 1,900,000,000-byte parts).
#              Served through a shaped link (LINK, below) so that the full fetch takes 30 s or
#              more, as on a home link. Each round: A is installed (from the local release
#              dir, untimed), B is fetched whole (`--no-delta`), A is installed again, B is
#              fetched as an update; same --jobs. Reported per round: wall times and the
#              update/full ratio (target <= 0.15x), bytes and requests from nginx's log, peak
#              RSS of voxctl (wait4's ru_maxrss; target <= 64 MiB); then the medians.
#
# The access log is the independent measure: voxctl's own figures are printed beside it when
# its events carry them. A voxctl without differential fetch (no --no-delta in `fetch --help`)
# is measured all the same: every fetch is then a full one, and the script says so.
#
# Usage: bench/delta.sh [real] [synthetic]      (no argument: both)
#   VOXCTL=PATH   measure that binary instead of building this tree's release build
#   JOBS=N        --jobs of every fetch [4]
#   RUNS=N        synthetic rounds [1]
#   SIZE=BYTES    synthetic asset size [2150000000]
#   CHANGE=F      share of A's bytes the edits change [0.03]
#   EDITS=N       number of edits [200]
#   SEED=N        generator seed [13]
#   LINK=RATE     the synthetic part's link: nginx runs in its own network namespace behind a
#                 veth pair whose egress (the download direction) a tc tbf qdisc limits to RATE
#                 (tc units: 400mbit), shared by all of a fetch's connections as on a real link
#                 (needs root and iproute2) [400mbit: a 2.15 GB full fetch takes about 45 s].
#                 LINK= (empty) serves on plain loopback.
#   RATE=R        with LINK= only: nginx `limit_rate R` (e.g. 20m) instead; it caps each
#                 connection, not the total, so a fetch with more connections gets more
#   KEEP=1        keep the work dir (under /var/tmp) for inspection
# The real part runs over the same server (its figures are bytes and requests, which the link
# does not change).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/link.sh
PARTS=${*:-real synthetic}
JOBS=${JOBS:-4}
RUNS=${RUNS:-1}
SIZE=${SIZE:-2150000000}
CHANGE=${CHANGE:-0.03}
EDITS=${EDITS:-200}
SEED=${SEED:-13}
LINK=${LINK-400mbit}
RATE=${RATE:-}
STEM=voicebox-server-cpu
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for p in $PARTS; do
  case $p in real | synthetic) ;; *) echo "usage: $0 [real] [synthetic]" >&2; exit 2 ;; esac
done
if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
V=$(realpath "$VOXCTL")
W=$(mktemp -d /var/tmp/voxctl-delta-bench.XXXXXX)
NS=voxdel$$
cleanup() {
  [ -n "${NGPID:-}" ] && kill "$NGPID" 2>/dev/null && wait "$NGPID" 2>/dev/null
  if [ -n "$LINK" ]; then unshape_link "$NS"; fi
  if [ -n "${KEEP:-}" ]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
mkdir -p "$W/ng" "$W/www" "$W/state" "$W/build"
chmod 700 "$W/state"

DELTA=
"$V" fetch --help | grep -q -- '--no-delta' && DELTA=1

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOST=127.0.0.1
RUN=()
LIMIT=
if [ -n "$LINK" ]; then
  shape_link "$LINK" "$NS" # bench/link.sh
elif [ -n "$RATE" ]; then
  LIMIT="limit_rate $RATE;"
fi
cat > "$W/ng/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $W/ng/nginx.pid; error_log $W/ng/error.log;
events { worker_connections 256; }
http { sendfile on; default_type application/octet-stream;
  log_format delta '\$request_method \$uri \$status "\$http_range" \$body_bytes_sent';
  access_log $W/ng/access.log delta;
  client_body_temp_path $W/ng/cb; proxy_temp_path $W/ng/px; fastcgi_temp_path $W/ng/fc;
  uwsgi_temp_path $W/ng/uw; scgi_temp_path $W/ng/sc;
  server { listen $HOST:$PORT; root $W/www; $LIMIT } }
CONF
: > "$W/www/ping"
"${RUN[@]}" "$NGINX" -p "$W/ng" -e "$W/ng/error.log" -c "$W/ng/nginx.conf" & NGPID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://$HOST:$PORT/ping" && break; sleep 0.05; done
URL=http://$HOST:$PORT
echo "machine: $(nproc) cores, $(uname -srm), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "voxctl: $V ($("$V" --version))"
if [ -n "$DELTA" ]; then
  echo "differential fetch: yes (fetch has --no-delta)"
else
  echo "differential fetch: NOT in this voxctl (no --no-delta): every fetch below is a full one"
fi
if [ -n "$LINK" ]; then
  echo "link: tc tbf $LINK on a veth pair (caps the total of all connections); --jobs $JOBS"
else
  echo "link: plain loopback${RATE:+, nginx limit_rate $RATE per connection}; --jobs $JOBS"
fi

# fetch NAME ARGS...: runs `voxctl fetch --json --variant cpu ARGS` into $W/data; its JSON
# lines go to $W/NAME.json (and to $W/NAME.at, each event's name with the seconds since the
# start at which it arrived), the access log lines it caused to $W/NAME.log, and
# "WALL_S MAXRSS_KIB" (wait4) to $W/NAME.time.
fetch() {
  local name=$1; shift
  local before
  before=$(wc -l < "$W/ng/access.log")
  python3 - "$W/$name.json" "$W/$name.time" "$V" fetch --json --variant cpu --jobs "$JOBS" \
    --data-dir "$W/data" --state-dir "$W/state" "$@" <<'PY'
import json, os, subprocess, sys, time
with open(sys.argv[1], "w") as out, open(sys.argv[1][:-len(".json")] + ".at", "w") as at:
    t0 = time.monotonic()
    p = subprocess.Popen(sys.argv[3:], stdout=subprocess.PIPE)
    for line in p.stdout:
        t = time.monotonic() - t0
        out.write(line.decode())
        try:
            at.write(f"{json.loads(line).get('event')} {t:.3f}\n")
        except ValueError:
            pass
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
if status != 0:
    sys.exit(f"fetch failed ({os.waitstatus_to_exitcode(status)}): {' '.join(sys.argv[3:])}; "
             f"its JSON lines are in {sys.argv[1]}")
with open(sys.argv[2], "w") as f:
    f.write(f"{wall:.3f} {ru.ru_maxrss}\n")
PY
  tail -n +"$((before + 1))" "$W/ng/access.log" > "$W/$name.log"
}

# report NAME ASSET_SIZE: one line from $W/NAME.log and $W/NAME.json: bytes nginx sent, their
# share of the asset, requests (and how many ranged), and voxctl's own figures if present.
report() {
  python3 - "$W/$1.log" "$W/$1.json" "$2" <<'PY'
import json, sys
log, events, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
at = {}
for line in open(events[:-len(".json")] + ".at"):
    name, t = line.split()
    if name != "progress":
        at.setdefault(name, float(t))
sent = reqs = ranged = 0
for line in open(log):
    f = line.split()
    reqs += 1
    ranged += f[3] != '"-"'
    sent += int(f[-1])
ev = {}
for line in open(events):
    e = json.loads(line)
    ev.setdefault(e.get("event"), e)
plan, inst = ev.get("delta_planned"), ev.get("installed") or ev.get("already_installed")
out = f"nginx sent {sent:,} B = {sent / size * 100:.2f}% of the asset in {reqs} requests ({ranged} ranged)"
if plan:
    out += (f"; voxctl planned {plan.get('to_download', 0):,} B to download in {plan.get('requests')} "
            f"requests, {plan.get('reused', 0):,} B reused")
if inst and "downloaded" in inst:
    out += (f"; installed says downloaded {inst['downloaded']:,} B, reused {inst.get('reused', 0):,} B, "
            f"{inst.get('requests')} requests")
if "delta_fallback" in ev:
    out += f"; FELL BACK to a full download: {ev['delta_fallback']}"
# When each step's event arrived (seconds from the start): where the time goes.
out += "; events at " + ", ".join(f"{k} {v:.1f} s" for k, v in at.items())
print(out)
with open(log + ".sum", "w") as f:
    f.write(f"{sent} {reqs}\n")
PY
}

real() {
  echo
  echo "== real: the PyInstaller pair (tests/fixtures/pyinstaller)"
  local t0
  t0=$(date +%s)
  tests/fixtures/pyinstaller/build.sh "$W/pair"
  echo "pair ready in $(( $(date +%s) - t0 )) s: old $(stat -c %s "$W/pair/old") B, new $(stat -c %s "$W/pair/new") B"
  local v ver bin
  for v in v1 v2; do
    case $v in v1) ver=0.3.0 bin=old ;; v2) ver=0.3.1 bin=new ;; esac
    mkdir -p "$W/build/$v"
    cp "$W/pair/$bin" "$W/build/$v/$STEM"
    "$V" split -q --variant cpu --app-version "$ver" --part-size 10MB --out "$W/www/$v" "$W/build/$v/$STEM" >/dev/null
  done
  local size
  size=$(stat -c %s "$W/pair/new")
  echo "release v2: $(cd "$W/www/v2" && ls | tr '\n' ' ')"
  fetch real-v1 --source "$URL/v1"
  read -r wall rss < "$W/real-v1.time"
  echo "installed v1 in $wall s"
  if [ -n "$DELTA" ]; then
    "$V" fetch --json --dry-run --variant cpu --jobs "$JOBS" --data-dir "$W/data" --state-dir "$W/state" \
      --source "$URL/v2" > "$W/real-dry.json"
    python3 - "$W/real-dry.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "delta_planned":
        print("dry run plan: " + json.dumps({k: v for k, v in e.items() if k != "event"}))
PY
  fi
  fetch real-v2 --source "$URL/v2"
  read -r wall rss < "$W/real-v2.time"
  cmp "$W/data/backends/$STEM" "$W/pair/new" || { echo "real: the install differs from the new build" >&2; exit 1; }
  echo "update to v2: $wall s, peak RSS $((rss / 1024)) MiB, installed = new build (cmp)"
  echo "update to v2: $(report real-v2 "$size")"
  local idx=$W/www/v2/$STEM.chunks
  if [ -f "$idx" ]; then
    local n
    n=$(stat -c %s "$idx")
    echo "index: $n B = $(python3 -c "print(f'{$n / $size * 100:.3f}')")% of the asset (target <= 0.5%)"
  else
    echo "index: none (split wrote no $STEM.chunks)"
  fi
  read -r sent reqs < "$W/real-v2.log.sum"
  echo "RESULT real: downloaded $sent B of $size B = $(python3 -c "print(f'{$sent / $size * 100:.2f}')")% (target <= 5%), $reqs requests"
  rm -rf "$W/data" "$W/build"
  mkdir -p "$W/build"
}

synthetic() {
  echo
  # Two parts: split's default 1,900,000,000-byte parts for sizes over that; smaller sizes
  # (for trying the script) get parts of 55% of SIZE, so that B, up to CHANGE larger, is 2 too.
  local part=1900000000
  [ "$SIZE" -gt "$part" ] || part=$((SIZE * 55 / 100))
  echo "== synthetic: $SIZE B, $EDITS edits changing $CHANGE of the bytes (seed $SEED), parts of $part B"
  # On disk at the peak: the two releases, the install and the new file beside it (4 x SIZE).
  local free need=$((SIZE * 41 / 10))
  free=$(df -B1 --output=avail "$W" | tail -1)
  if [ "$free" -lt "$need" ]; then
    echo "synthetic: needs about $need B free in $W's filesystem, has $free B (try a smaller SIZE=)" >&2
    exit 1
  fi
  local t0
  t0=$(date +%s)
  mkdir -p "$W/build/a" "$W/build/b"
  python3 bench/delta_gen.py "$SIZE" "$CHANGE" "$EDITS" "$SEED" "$W/build/a/$STEM" "$W/build/b/$STEM" | tee "$W/gen.json"
  echo "generated in $(( $(date +%s) - t0 )) s"
  t0=$(date +%s)
  local size
  size=$(stat -c %s "$W/build/b/$STEM")
  # One at a time, each input removed once split: the disk holds at most 3 x SIZE here.
  "$V" split -q --variant cpu --app-version 1.0.0 --part-size "$part" --out "$W/www/a" "$W/build/a/$STEM" >/dev/null
  rm -rf "$W/build/a"
  "$V" split -q --variant cpu --app-version 1.0.1 --part-size "$part" --out "$W/www/b" "$W/build/b/$STEM" >/dev/null
  rm -rf "$W/build/b"
  echo "split both in $(( $(date +%s) - t0 )) s; release b: $(cd "$W/www/b" && ls | tr '\n' ' ')"
  [ -f "$W/www/b/$STEM.chunks" ] && echo "index: $(stat -c %s "$W/www/b/$STEM.chunks") B = $(python3 -c "print(f'{$(stat -c %s "$W/www/b/$STEM.chunks") / $size * 100:.3f}')")% of the asset (target <= 0.5%)"
  local nodelta=()
  [ -n "$DELTA" ] && nodelta=(--no-delta)
  local r wall rss fw frss
  for r in $(seq "$RUNS"); do
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    fetch "syn-a$r" --source "$W/www/a"; sync
    fetch "syn-full$r" --source "$URL/b" "${nodelta[@]}"
    read -r fw frss < "$W/syn-full$r.time"
    fetch "syn-a$r-again" --source "$W/www/a"; sync
    fetch "syn-delta$r" --source "$URL/b"
    read -r wall rss < "$W/syn-delta$r.time"
    echo "round $r (load $load):"
    echo "  full   $fw s, peak RSS $((frss / 1024)) MiB: $(report "syn-full$r" "$size")"
    echo "  update $wall s, peak RSS $((rss / 1024)) MiB: $(report "syn-delta$r" "$size")"
    read -r fsent freqs < "$W/syn-full$r.log.sum"
    read -r dsent dreqs < "$W/syn-delta$r.log.sum"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$load" "$fw" "$frss" "$fsent" "$wall" "$rss" "$dsent" "$dreqs" >> "$W/rounds.tsv"
  done
  # An independent check of the last install: sha256sum against the release's S.sha256.
  (cd "$W/data/backends" && sha256sum -c --quiet "$W/www/b/$STEM.sha256") && echo "last install = B (sha256sum -c)"
  python3 - "$W/rounds.tsv" "$size" <<'PY'
import statistics as st, sys
rows = [l.split("\t") for l in open(sys.argv[1])]
size = int(sys.argv[2])
ratio = [float(r[5]) / float(r[2]) for r in rows]
full = [float(r[2]) for r in rows]
rss = max(max(int(r[3]), int(r[6])) for r in rows) / 1024
share = [int(r[7]) / size * 100 for r in rows]
print(f"RESULT synthetic: update/full wall {st.median(ratio):.3f}x (median of {len(rows)}; "
      f"rounds {' '.join(f'{x:.3f}' for x in ratio)}; target <= 0.15x), full fetch "
      f"{st.median(full):.1f} s (needs >= 30 s), update downloaded {st.median(share):.2f}% of B "
      f"in {rows[-1][8].strip()} requests, peak RSS {rss:.1f} MiB (target <= 64 MiB)")
PY
}

for p in $PARTS; do "$p"; done
