#!/usr/bin/env bash
# Signature cost in fetch: a 2.15 GB asset split into 2 parts by `voxctl split`,
# served by nginx on loopback in three forms:
#   unsigned   no signature (no key given)
#   manifest   S.manifest.json.minisig from `voxctl split --sign` (a minisign -G -W key);
#              fetched with --pubkey-file: voxctl's --json event "authenticated" reports
#              check_us, the time the signature step took (fetching the .minisig and
#              checking it), compared with the whole fetch
#   asset      only a signature over the whole asset (A.minisig, as `tauri signer sign`
#              makes of a bundle): BLAKE2b over every byte on a second thread, compared with
#              the unsigned fetch of the same release
# Rounds: each round fetches all three once (page cache synced before each), and the ratio
# is taken per round; the median of RUNS rounds is reported. Each fetch's wall time and CPU
# time (user + sys of voxctl, from wait4) are recorded: on a shared machine the CPU time is
# the steadier measure of what the signature costs. The load average is printed per round.
#
# Usage: bench/sign.sh [SIZE] [RUNS]
#   LINK=RATE   serve through a shaped link instead of unlimited loopback: nginx runs in its
#               own network namespace behind a veth pair whose egress is limited by a tc tbf
#               qdisc to RATE (tc units: 1gbit, 2500mbit), shared by all the fetch's
#               connections as on a real link (needs root; iproute2)
#   VOXCTL=PATH measure that binary instead of building this tree's release build
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/link.sh
SIZE=${1:-2150000000}
RUNS=${2:-3}
LINK=${LINK:-}
ASSET=voicebox-server-cuda
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v minisign >/dev/null || { apt-get update -qq && apt-get install -y -qq minisign; }
# VOXCTL=/path/to/voxctl times another build instead of this tree's.
if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
V=$(realpath "$VOXCTL")
W=$(mktemp -d /var/tmp/voxctl-sign-bench.XXXXXX)
NS=voxsig$$
cleanup() {
  [ -n "${NGPID:-}" ] && kill "$NGPID" 2>/dev/null && wait "$NGPID" 2>/dev/null
  if [ -n "$LINK" ]; then unshape_link "$NS"; fi
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/ng" "$W/www/unsigned" "$W/www/manifest" "$W/www/asset" "$W/state"
chmod 700 "$W/state"

minisign -G -W -p "$W/k.pub" -s "$W/k.key" >/dev/null
head -c "$SIZE" /dev/urandom > "$W/$ASSET"
"$V" split -q --out "$W/www/manifest" --sign "$W/k.key" "$W/$ASSET" >/dev/null
"$V" sign -q -s "$W/k.key" "$W/$ASSET" >/dev/null
for f in "$W/www/manifest/"*; do
  case "$f" in *.minisig) ;; *) ln "$f" "$W/www/unsigned/"; ln "$f" "$W/www/asset/" ;; esac
done
cp "$W/$ASSET.minisig" "$W/www/asset/"
rm "$W/$ASSET"
sync

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOST=127.0.0.1
RUN=()
if [ -n "$LINK" ]; then
  shape_link "$LINK" "$NS" # bench/link.sh
fi
cat > "$W/ng/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $W/ng/nginx.pid; error_log $W/ng/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; default_type application/octet-stream;
  client_body_temp_path $W/ng/cb; proxy_temp_path $W/ng/px; fastcgi_temp_path $W/ng/fc;
  uwsgi_temp_path $W/ng/uw; scgi_temp_path $W/ng/sc;
  server { listen $HOST:$PORT; root $W/www; } }
CONF
"${RUN[@]}" "$NGINX" -p "$W/ng" -e "$W/ng/error.log" -c "$W/ng/nginx.conf" & NGPID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://$HOST:$PORT/unsigned/$ASSET.sha256" && break; sleep 0.05; done
URL=http://$HOST:$PORT
echo "machine: $(nproc) cores, $(uname -srm), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "voxctl: $V"
echo "link: ${LINK:-unlimited loopback}"
echo "release: $SIZE bytes in $(ls "$W/www/unsigned" | grep -c part) parts"

# fetch FORM [KEY ARGS...]: prints "WALL USER SYS" in seconds (voxctl's own CPU time, from
# wait4); --json events go to $W/FORM.json
fetch() {
  local form=$1; shift
  rm -rf "$W/out"; sync
  python3 - "$W/$form.json" "$V" fetch --json --variant cuda --source "$URL/$form" \
    --data-dir "$W/out" --state-dir "$W/state" "$@" <<'PY'
import os, subprocess, sys, time
with open(sys.argv[1], "w") as out:
    t0 = time.monotonic()
    p = subprocess.Popen(sys.argv[2:], stdout=out)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
if status != 0:
    sys.exit(f"fetch failed ({status}): {sys.argv[2:]}")
print(f"{wall:.3f} {ru.ru_utime:.3f} {ru.ru_stime:.3f}")
PY
}

for r in $(seq "$RUNS"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  u=$(fetch unsigned)
  m=$(fetch manifest --pubkey-file "$W/k.pub")
  a=$(fetch asset --pubkey-file "$W/k.pub")
  python3 - "$W" "$r" "$load" $u $m $a <<'PY'
import json, sys
w, r, load = sys.argv[1:4]
u, uu, us, m, mu, ms, a, au, as_ = map(float, sys.argv[4:])
uc, mc_, ac_ = uu + us, mu + ms, au + as_
def check_ms(form):
    for line in open(f"{w}/{form}.json"):
        ev = json.loads(line)
        if ev.get("event") == "authenticated":
            return ev["check_us"] / 1000, ev["key_id"]
    raise SystemExit(f"{form}: no authenticated event")
mc, kid = check_ms("manifest")
ac, _ = check_ms("asset")
print(f"round {r} (load {load}): unsigned {u:.2f} s, CPU {uc:.2f} s ({uu:.2f} user + {us:.2f} sys) | "
      f"manifest-signed {m:.2f} s, CPU {mc_:.2f} s, signature step {mc:.2f} ms "
      f"= {mc / 10 / m:.4f}% of the fetch (key {kid}) | asset-signed {a:.2f} s = "
      f"{(a / u - 1) * 100:+.1f}% wall, CPU {ac_:.2f} s ({au:.2f} user + {as_:.2f} sys) = "
      f"{(ac_ / uc - 1) * 100:+.1f}% CPU vs unsigned (wait for BLAKE2b after the SHA-256: "
      f"{ac:.0f} ms)")
with open(f"{w}/rounds.tsv", "a") as f:
    f.write(f"{r}\t{load}\t{u}\t{uc}\t{m}\t{mc}\t{a}\t{ac_}\t{ac}\n")
PY
done
python3 - "$W/rounds.tsv" <<'PY'
import statistics, sys
rows = [list(map(float, l.split("\t"))) for l in open(sys.argv[1])]
wall = [(a / u - 1) * 100 for _, _, u, _, _, _, a, _, _ in rows]
cpu = [(ac / uc - 1) * 100 for _, _, _, uc, _, _, _, ac, _ in rows]
share = [mc / 10 / m for _, _, _, _, m, mc, _, _, _ in rows]
print(f"median of {len(rows)} rounds: asset-signed {statistics.median(wall):+.1f}% wall, "
      f"{statistics.median(cpu):+.1f}% CPU vs unsigned; manifest signature step "
      f"{statistics.median(share):.4f}% of the fetch")
print("| round | load | unsigned | CPU | manifest-signed | step | asset-signed | vs unsigned | CPU | vs unsigned | BLAKE2b wait |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for (r, load, u, uc, m, mc, a, ac, wait), wl, cp in zip(rows, wall, cpu):
    print(f"| {r:.0f} | {load:.1f} | {u:.2f} s | {uc:.2f} s | {m:.2f} s | {mc:.2f} ms | {a:.2f} s "
          f"| {wl:+.1f}% | {ac:.2f} s | {cp:+.1f}% | {wait:.0f} ms |")
PY
