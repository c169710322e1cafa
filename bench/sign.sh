#!/usr/bin/env bash
# Signature cost in fetch (issue 14): a 2.15 GB asset split into 2 parts by `voxctl split`,
# served by nginx on loopback in three forms:
#   unsigned   no signature (no key given)
#   manifest   S.manifest.json.minisig from `voxctl split --sign` (a minisign -G -W key);
#              fetched with --pubkey-file: voxctl's --json event "authenticated" reports
#              check_ms, the time the signature step took (fetching the .minisig and
#              checking it), compared with the whole fetch
#   asset      only a signature over the whole asset (A.minisig, as `tauri signer sign`
#              makes of a bundle): BLAKE2b over every byte on a second thread, compared with
#              the unsigned fetch of the same release
# Rounds: each round fetches all three once (page cache synced before each), and the ratio
# is taken per round; the median of RUNS rounds is reported. Usage: bench/sign.sh [SIZE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-2150000000}
RUNS=${2:-3}
ASSET=voicebox-server-cuda
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v minisign >/dev/null || { apt-get update -qq && apt-get install -y -qq minisign; }
# VOXCTL=/path/to/voxctl times another build instead of this tree's.
if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
V=$VOXCTL
W=$(mktemp -d /var/tmp/voxctl-sign-bench.XXXXXX)
trap '[ -n "${NGPID:-}" ] && kill $NGPID 2>/dev/null; rm -rf "$W"' EXIT
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
cat > "$W/ng/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $W/ng/nginx.pid; error_log $W/ng/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; default_type application/octet-stream;
  client_body_temp_path $W/ng/cb; proxy_temp_path $W/ng/px; fastcgi_temp_path $W/ng/fc;
  uwsgi_temp_path $W/ng/uw; scgi_temp_path $W/ng/sc;
  server { listen 127.0.0.1:$PORT; root $W/www; } }
CONF
"$NGINX" -p "$W/ng" -e "$W/ng/error.log" -c "$W/ng/nginx.conf" & NGPID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/unsigned/$ASSET.sha256" && break; sleep 0.05; done
URL=http://127.0.0.1:$PORT
echo "machine: $(nproc) cores, $(uname -srm), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "release: $SIZE bytes in $(ls "$W/www/unsigned" | grep -c part) parts"

# fetch FORM [KEY ARGS...]: prints the wall time in seconds; --json events go to $W/FORM.json
fetch() {
  local form=$1; shift
  rm -rf "$W/out"; sync
  local t0 t1
  t0=$(date +%s.%N)
  "$V" fetch --json --variant cuda --source "$URL/$form" --data-dir "$W/out" \
    --state-dir "$W/state" "$@" > "$W/$form.json"
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}

for r in $(seq "$RUNS"); do
  u=$(fetch unsigned)
  m=$(fetch manifest --pubkey-file "$W/k.pub")
  a=$(fetch asset --pubkey-file "$W/k.pub")
  python3 - "$W" "$r" "$u" "$m" "$a" <<'PY'
import json, sys
w, r, u, m, a = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
def check_ms(form):
    for line in open(f"{w}/{form}.json"):
        ev = json.loads(line)
        if ev.get("event") == "authenticated":
            return ev["check_ms"], ev["key_id"]
    raise SystemExit(f"{form}: no authenticated event")
mc, kid = check_ms("manifest")
ac, _ = check_ms("asset")
print(f"round {r}: unsigned {u:.2f} s | manifest-signed {m:.2f} s, signature step {mc:.2f} ms "
      f"= {mc / 10 / m:.4f}% of the fetch (key {kid}) | asset-signed {a:.2f} s = "
      f"{(a / u - 1) * 100:+.1f}% vs unsigned (wait for BLAKE2b after the SHA-256: {ac:.0f} ms)")
PY
done
