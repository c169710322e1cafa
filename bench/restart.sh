#!/usr/bin/env bash
# Restart downtime: voxctl restart vs the reference app's stop / sleep 1 s / start,
# on the fixture backend, release builds. Prints downtime as a client sees it, the new
# backend's own start-up time, the overhead (downtime minus start-up; target < 50 ms) and the
# ratio. Then hyperfine compares the wall time of the two commands. Usage: bench/restart.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
command -v hyperfine >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq hyperfine; }
# VOXCTL=/path/to/voxctl times another build (e.g. an older commit's) instead of this tree's.
if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
cargo build --release -q --example fixture_backend
vox="$VOXCTL"
fixture="$PWD/target/release/examples/fixture_backend"
echo "== downtime ($runs swaps, cpu <-> cuda)"
python3 bench/restart_downtime.py "$vox" "$fixture" "$runs"

echo "== wall time of one restart command (hyperfine)"
tmp=$(mktemp -d)
trap 'kill -9 -- "-$(python3 -c "import json;print(json.load(open(\"$tmp/state/backend.json\"))[\"pid\"])" 2>/dev/null)" 2>/dev/null || true; kill "$(cat "$tmp/ref.pid")" 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/data/backends"
cp "$fixture" "$tmp/data/backends/voicebox-server-cpu"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
rport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export VOXCTL_STATE_DIR="$tmp/state"
"$vox" -q restart --variant cpu --data-dir "$tmp/data" --port "$port" >/dev/null
# The reference flow, as the app does it: kill, sleep 1 s, start (no port or health check).
cat > "$tmp/ref.sh" <<REF
kill -TERM "\$(cat $tmp/ref.pid)" 2>/dev/null || true
sleep 1
setsid "$tmp/data/backends/voicebox-server-cpu" --data-dir "$tmp/data" --port $rport >/dev/null 2>&1 < /dev/null &
echo \$! > $tmp/ref.pid
REF
setsid "$tmp/data/backends/voicebox-server-cpu" --data-dir "$tmp/data" --port "$rport" >/dev/null 2>&1 < /dev/null &
echo $! > "$tmp/ref.pid"
hyperfine -N --warmup 2 --runs 10 \
  -n "voxctl restart" "$vox -q restart --variant cpu --data-dir $tmp/data --port $port" \
  -n "reference stop/sleep 1s/start" "sh $tmp/ref.sh"
