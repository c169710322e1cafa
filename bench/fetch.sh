#!/usr/bin/env bash
# Fetch benchmark: a 2 GiB asset split into 2 parts (1,900,000,000-byte parts, as
# `voxctl split` makes them, with a rich JSON manifest) served by nginx on loopback.
# Side by side with hyperfine, in interleaved rounds (see below):
#   voxctl   voxctl fetch (parallel parts, part + whole SHA-256, fsync, atomic install)
#   aria2c   aria2c -x4 --checksum=sha-256=... of the whole file
#   ref      the reference flow: curl each part, cat, sha256sum -c
#   floor    curl -o FILE of the whole file, no verification (the write floor)
#   durable  curl -o FILE, then fsync it (`sync FILE`): the floor for a file that is on disk,
#            which is what voxctl guarantees before it installs
# Then peak RSS of voxctl fetch with GNU time. Usage: bench/fetch.sh [SIZE_BYTES] [RUNS]
# PEERS="aria2c ref" (the default) picks the slow peers to run too; PEERS= times only voxctl
# against the floor (for repeated runs on a noisy machine). VOXCTL=/path/to/voxctl times another
# build (e.g. an older commit's) instead of this tree's release build; BASELINE=/path/to/voxctl
# adds that build as a "baseline" command in the same rounds (an A/B of two builds).
# The page cache is synced after making the release and before every timed run, so that no
# run pays for writeback left by the setup or by the run before it.
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

if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
W=$(mktemp -d /var/tmp/voxctl-bench.XXXXXX)
trap '[ -n "${NGPID:-}" ] && kill $NGPID 2>/dev/null; rm -rf "$W"' EXIT
mkdir -p "$W/rel" "$W/ng"

echo "making a $SIZE-byte release in $W/rel"
head -c "$SIZE" /dev/urandom > "$W/rel/$ASSET"
(cd "$W/rel" && split -d -a 2 -b $CHUNK "$ASSET" "$ASSET.part" && ls "$ASSET".part* > "$ASSET.manifest" \
  && sha256sum "$ASSET" > "$ASSET.sha256" && sha256sum "$ASSET".part* > parts.sha256)
WHOLE=$(cut -d' ' -f1 "$W/rel/$ASSET.sha256")
sync
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
[ -n "${BASELINE:-}" ] && CMDS+=(-n baseline "$BASELINE fetch -q --variant cuda --source $URL --data-dir $W/out --state-dir $W/state")
case " $PEERS " in *" aria2c "*) CMDS+=(-n aria2c "aria2c -q -x4 -d $W/out --checksum=sha-256=$WHOLE $URL/$ASSET") ;; esac
case " $PEERS " in *" ref "*) CMDS+=(-n ref "cd $W/out && curl -sfO $URL/$ASSET.part00 && curl -sfO $URL/$ASSET.part01 && cat $ASSET.part00 $ASSET.part01 > $ASSET && rm $ASSET.part0* && curl -sfO $URL/$ASSET.sha256 && sha256sum -c --quiet $ASSET.sha256") ;; esac
CMDS+=(-n floor "curl -sf -o $W/out/$ASSET $URL/$ASSET")
CMDS+=(-n durable "curl -sf -o $W/out/$ASSET $URL/$ASSET && sync $W/out/$ASSET")
# Rounds: each round times every command once (hyperfine --runs 1), so that the commands of
# one round see the same machine load; the ratio to the floor is taken per round and its
# median reported, which a shared machine's load swings disturb much less than a ratio of
# means measured minutes apart. One untimed warm-up round first.
hyperfine --runs 1 --style none --prepare "rm -rf $W/out && mkdir -p $W/out && sync" "${CMDS[@]}" >/dev/null
for r in $(seq "$RUNS"); do
  hyperfine --runs 1 --style basic --export-json "$W/h$r.json" \
    --prepare "rm -rf $W/out && mkdir -p $W/out && sync" "${CMDS[@]}" | grep -E '^Benchmark|Time'
done

python3 - "$W" "$RUNS" <<'PY'
import json, os, statistics as st, sys
w, runs = sys.argv[1], int(sys.argv[2])
rounds = [{x["command"]: x["mean"] for x in json.load(open(os.path.join(w, f"h{r}.json")))["results"]}
          for r in range(1, runs + 1)]
print(f"{runs} rounds; per command: median (min-max) seconds; ratio to curl -o per round: median (min-max)")
for k in rounds[0]:
    t = [r[k] for r in rounds]
    q = [r[k] / r["floor"] for r in rounds]
    print(f"{k:8} {st.median(t):6.2f} s ({min(t):.2f}-{max(t):.2f})   "
          f"{st.median(q):5.2f}x ({min(q):.2f}-{max(q):.2f})   rounds: " + " ".join(f"{x:.2f}" for x in q))
PY

rm -rf "$W/out" && mkdir -p "$W/out" && sync
/usr/bin/time -v "$VOXCTL" fetch -q --variant cuda --source "$URL" --data-dir "$W/out" --state-dir "$W/state" 2> "$W/time.txt"
grep -E "Maximum resident|Elapsed" "$W/time.txt"
