#!/usr/bin/env bash
# Lease latency and throughput.
#
# 1. One uncontended operation: `voxctl lease run L -- true` (acquire, run, release) against
#    `flock LOCKFILE true`, with hyperfine. Target: voxctl within 2x of flock(1).
# 2. Throughput with 8 processes contending for one lease: 8 shell loops each run ITERS
#    `voxctl lease run L --wait 5m -- true` (and, as the peer, `flock LOCKFILE true`); the
#    figure is operations per second over the whole batch.
#
# Usage: bench/lease.sh [RUNS] [ITERS]   (default 300 runs for 1, 100 iterations per process
# for 2). The state dir and the flock file live in a fresh directory under $TMPDIR (default
# /tmp); run it with TMPDIR=/dev/shm to take the disk's journal out of the figures. Needs
# hyperfine and jq (installed with apt-get if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-300}"
iters="${2:-100}"
procs=8

need=()
command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
command -v jq >/dev/null 2>&1 || need+=(jq)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi
# VOXCTL=/path/to/voxctl times another build (e.g. an older commit's) instead of this tree's.
if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
voxctl="$VOXCTL"

work="$(mktemp -d -p "${TMPDIR:-/tmp}")"
echo "state dir and lock file in $work ($(df -T "$work" | awk 'NR == 2 { print $2 }'))"
trap 'rm -rf "$work"' EXIT
export VOXCTL_STATE_DIR="$work/state"
lock="$work/flock.lock"
"$voxctl" lease run L -- true # create the state dir and lease files outside the timing

mean() { jq -r ".results[$2].mean" "$1"; }

echo "== one operation, uncontended ($runs runs)"
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/op.json" \
  "$voxctl lease run L -- true" \
  "flock $lock true"
v=$(mean "$work/op.json" 0)
f=$(mean "$work/op.json" 1)
awk -v v="$v" -v f="$f" 'BEGIN {
  printf "voxctl lease run: %.2f ms   flock: %.2f ms   ratio: %.2fx (target <= 2x)\n",
    v * 1000, f * 1000, v / f }'

echo "== throughput, $procs processes x $iters operations on one lease"
loop() { # loop CMD...: $procs background loops of $iters runs of CMD, then wait for all
  printf 'for p in $(seq %d); do (for i in $(seq %d); do %s || exit 1; done) & done; wait' \
    "$procs" "$iters" "$*"
}
hyperfine --warmup 1 --runs 3 --export-json "$work/tp.json" \
  -n "voxctl lease run (8 contending)" "$(loop "$voxctl" lease run L --wait 5m -- true)" \
  -n "flock (8 contending)" "$(loop flock "$lock" true)"
v=$(mean "$work/tp.json" 0)
f=$(mean "$work/tp.json" 1)
awk -v v="$v" -v f="$f" -v n=$((procs * iters)) 'BEGIN {
  printf "voxctl lease run: %.0f ops/s   flock: %.0f ops/s   ratio: %.2fx\n",
    n / v, n / f, (n / f) / (n / v) }'
