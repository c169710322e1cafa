#!/usr/bin/env bash
# Reap latency: from `voxctl reap` starting to the wedged holder being gone, minus
# the configured graces. Target: under 50 ms.
#
# Before each timed run, hyperfine's --prepare starts a stand-in app instance (a `sh` that
# creates a real SingletonLock symlink <host>-<pid> and execs `sleep`), wedges it with SIGSTOP
# and marks it with `voxctl reap mark`. The timed command is `voxctl reap --yes`, which returns
# only after the holder's pidfd reports its exit, so its wall time bounds "holder gone".
#
# Scenarios:
#   term  the wedged holder dies on SIGTERM: latency = wall time - teardown grace
#   kill  the wedged holder also ignores SIGTERM: latency = wall time - teardown - term grace
# No peer tool does this guarded reap, so the figure is checked against the absolute target.
#
# Usage: bench/reap.sh [RUNS]   (default 20 runs per scenario)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"

if ! command -v hyperfine >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq hyperfine
fi
# VOXCTL=/path/to/voxctl times another build (e.g. an older commit's) instead of this tree's.
if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
voxctl="$VOXCTL"

work="$(mktemp -d)"
cleanup() {
  # Only the bench's own stand-in instances: their pids are recorded in $work/pids.
  if [ -f "$work/pids" ]; then
    while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$work/pids"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
export VOXCTL_STATE_DIR="$work/state"
lock="$work/SingletonLock"
teardown_ms=100
term_ms=200

# prepare.sh term|kill: start, wedge and mark one stand-in instance ("kill": it ignores SIGTERM).
export BENCH_LOCK="$lock" BENCH_PIDS="$work/pids" BENCH_VOXCTL="$voxctl"
cat >"$work/prepare.sh" <<'EOF'
#!/bin/sh
set -e
rm -f "$BENCH_LOCK"
H=$(hostname); export H
pre=:
[ "$1" = kill ] && pre="trap '' TERM"
sh -c "$pre"'
ln -s "$H-$$" "$BENCH_LOCK"; exec sleep 600' </dev/null >/dev/null 2>&1 &
pid=$!
echo "$pid" >>"$BENCH_PIDS"
while [ "$(readlink "$BENCH_LOCK" 2>/dev/null)" != "$H-$pid" ]; do :; done
kill -STOP "$pid"
"$BENCH_VOXCTL" -q reap mark --pid "$pid"
EOF
chmod +x "$work/prepare.sh"

reap="$voxctl -q --yes reap --lock $lock --teardown-grace ${teardown_ms}ms --term-grace ${term_ms}ms"
for scenario in term kill; do
  hyperfine -N --runs "$runs" --warmup 2 --prepare "$work/prepare.sh $scenario" \
    --command-name "$scenario" "$reap" --export-json "$work/$scenario.json"
done

python3 - "$work" "$teardown_ms" "$term_ms" <<'EOF'
import json, sys
work, teardown, term = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for name, graces in (("term", teardown), ("kill", teardown + term)):
    r = json.load(open(f"{work}/{name}.json"))["results"][0]
    lat = sorted(t * 1000 - graces for t in r["times"])
    print(f"{name}: wall mean {r['mean']*1000:.1f} ms, graces {graces} ms -> latency "
          f"mean {r['mean']*1000 - graces:.1f} ms, median {lat[len(lat)//2]:.1f} ms, "
          f"max {lat[-1]:.1f} ms ({'meets' if lat[-1] < 50 else 'MISSES'} the 50 ms target)")
EOF
