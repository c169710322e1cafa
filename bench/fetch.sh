#!/usr/bin/env bash
# Fetch benchmark (issue 3): a 2 GiB asset split into 2 parts (1,900,000,000-byte parts, as
# `voxctl split` makes them, with a rich JSON manifest) served by nginx on loopback.
# Side by side with hyperfine:
#   voxctl   voxctl fetch (parallel parts, part + whole SHA-256, fsync, atomic install)
#   aria2c   aria2c -x4 --checksum=sha-256=... of the whole file
#   ref      the reference flow: curl each part, cat, sha256sum -c
#   floor    curl -o FILE of the whole file, no verification (the write floor)
# Then peak RSS of voxctl fetch with GNU time. Usage: bench/fetch.sh [SIZE_BYTES] [RUNS]
# PEERS="aria2c ref" (the default) picks the slow peers to run too; PEERS= times only voxctl
# against the floor (for repeated runs on a noisy machine).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-2147483648}
RUNS=${2:-3}
PEERS=${PEERS-aria2c ref}
CHUNK=1900000000
ASSET=voicebox-server-cuda
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
command -v aria2c >/dev/null || { apt-get update -qq && apt-get install -y -qq aria2; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

cargo build --release -q
VOXCTL=$PWD/target/release/voxctl
W=$(mktemp -d /var/tmp/voxctl-bench.XXXXXX)
trap '[ -n "${NGPID:-}" ] && kill $NGPID 2>/dev/null; rm -rf "$W"' EXIT
mkdir -p "$W/rel" "$W/ng"

echo "making a $SIZE-byte release in $W/rel"
head -c "$SIZE" /dev/urandom > "$W/rel/$ASSET"
(cd "$W/rel" && split -d -a 2 -b $CHUNK "$ASSET" "$ASSET.part" && ls "$ASSET".part* > "$ASSET.manifest" \
  && sha256sum "$ASSET" > "$ASSET.sha256" && sha256sum "$ASSET".part* > parts.sha256)
WHOLE=$(cut -d' ' -f1 "$W/rel/$ASSET.sha256")
python3 - "$W/rel" "$ASSET" "$SIZE" "$CHUNK" "$WHOLE" <<'PY'
import json, os, sys
rel, asset, size, chunk, whole = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
parts, off = [], 0
for line in open(os.path.join(rel, "parts.sha256")):
    h, name = line.split()
    n = os.path.getsize(os.path.join(rel, name))
    parts.append({"name": name, "offset": off, "size": n, "sha256": h}); off += n
json.dump({"format": "voxctl-manifest", "version": 1, "asset": asset, "size": size, "sha256": whole,
           "chunk_size": chunk, "variant": "cuda", "parts": parts},
          open(os.path.join(rel, asset + ".manifest.json"), "w"))
PY

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$W/ng/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $W/ng/nginx.pid; error_log $W/ng/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; default_type application/octet-stream;
  client_body_temp_path $W/ng/cb; proxy_temp_path $W/ng/px; fastcgi_temp_path $W/ng/fc;
  uwsgi_temp_path $W/ng/uw; scgi_temp_path $W/ng/sc;
  server { listen 127.0.0.1:$PORT; root $W/rel; } }
CONF
"$NGINX" -p "$W/ng" -e "$W/ng/error.log" -c "$W/ng/nginx.conf" & NGPID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/$ASSET.sha256" && break; sleep 0.05; done
URL=http://127.0.0.1:$PORT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -srm)"
CMDS=(-n voxctl "$VOXCTL fetch -q --variant cuda --source $URL --data-dir $W/out --state-dir $W/state")
case " $PEERS " in *" aria2c "*) CMDS+=(-n aria2c "aria2c -q -x4 -d $W/out --checksum=sha-256=$WHOLE $URL/$ASSET") ;; esac
case " $PEERS " in *" ref "*) CMDS+=(-n ref "cd $W/out && curl -sfO $URL/$ASSET.part00 && curl -sfO $URL/$ASSET.part01 && cat $ASSET.part00 $ASSET.part01 > $ASSET && rm $ASSET.part0* && curl -sfO $URL/$ASSET.sha256 && sha256sum -c --quiet $ASSET.sha256") ;; esac
CMDS+=(-n floor "curl -sf -o $W/out/$ASSET $URL/$ASSET")
hyperfine --runs "$RUNS" --warmup 1 --export-json "$W/h.json" \
  --prepare "rm -rf $W/out && mkdir -p $W/out" "${CMDS[@]}"

python3 - "$W/h.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
floor = r["floor"]
for k, v in r.items():
    print(f"{k:8} {v:7.2f} s  {v / floor:5.2f}x of curl -o")
PY

rm -rf "$W/out" && mkdir -p "$W/out"
/usr/bin/time -v "$VOXCTL" fetch -q --variant cuda --source "$URL" --data-dir "$W/out" --state-dir "$W/state" 2> "$W/time.txt"
grep -E "Maximum resident|Elapsed" "$W/time.txt"
