#!/usr/bin/env bash
# Lease latency and throughput.
#
# 1. One uncontended operation: `voxctl lease run L -- true` (acquire, run, release) against
#    `flock LOCKFILE true`, with hyperfine, in ROUNDS (default 6) interleaved rounds of RUNS
#    runs of each; prints each round's ratio of means and their median. Target: voxctl within
#    1.5x of flock(1).
# 2. Throughput with 8 processes contending for one lease: 8 shell loops each run ITERS
#    `voxctl lease run L --wait 5m -- true` (and, as the peer, `flock LOCKFILE true`); the
#    figure is operations per second over the whole batch.
#
# Usage: [ROUNDS=N] [SKIP_THROUGHPUT=1] bench/lease.sh [RUNS] [ITERS]   (default 100 runs per
# round for 1, 100 iterations per process for 2; SKIP_THROUGHPUT=1 stops after 1). The state
# dir and the flock file live in a fresh directory under $TMPDIR (default /tmp); run it with
# TMPDIR=/dev/shm to take the disk's journal out of the figures. Needs hyperfine and jq
# (installed with apt-get if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-100}"
iters="${2:-100}"
rounds="${ROUNDS:-6}"
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

echo "== one operation, uncontended: $rounds interleaved rounds of $runs runs each"
# Rounds alternate voxctl and flock(1), so a change of machine load between them hits both
# sides alike; the figure is the median of the per-round ratios of means, printed with the
# load average at the start and the end (other work on the machine inflates both sides, and
# the ratio less than the times).
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average at start: $(load)"
ratios=()
for r in $(seq "$rounds"); do
  hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/v$r.json" \
    "$voxctl lease run L -- true" >/dev/null
  hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/f$r.json" \
    "flock $lock true" >/dev/null
  v=$(mean "$work/v$r.json" 0)
  f=$(mean "$work/f$r.json" 0)
  ratio=$(awk -v v="$v" -v f="$f" 'BEGIN { printf "%.3f", v / f }')
  ratios+=("$ratio")
  awk -v r="$r" -v v="$v" -v f="$f" -v x="$ratio" 'BEGIN {
    printf "round %d: voxctl lease run %.2f ms   flock %.2f ms   ratio %.2fx\n",
      r, v * 1000, f * 1000, x }'
done
echo "load average at end: $(load)"
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END {
  m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
  printf "median ratio of %d rounds: %.2fx (min %.2fx, max %.2fx; target <= 1.5x)\n",
    NR, m, a[1], a[NR] }'
[ "${SKIP_THROUGHPUT:-}" = 1 ] && exit 0

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
