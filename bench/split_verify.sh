#!/usr/bin/env bash
# Benchmarks `voxctl split` and `voxctl verify` against their peers on a 2 GiB file, with
# hyperfine (installed with apt-get if missing) and GNU time for peak RSS; prints medians,
# their spread (min-max) and ratios of medians.
#
#   bench/split_verify.sh            # data in target/bench-split-verify (about 12 GB of disk)
#   BENCH_DIR=/somewhere RUNS=5 MODES="warm cold" bench/split_verify.sh
#
# Every comparison runs in two modes (MODES, default both):
# - warm: the inputs are read into the page cache before each run (`cat >/dev/null`);
# - cold: the page cache is dropped before each run (`sync; echo 3 >
#   /proc/sys/vm/drop_caches`), so the input comes from the disk. Needs root; without it
#   the cold runs are skipped with a message.
# Before every split/cp run the previous outputs are deleted and `sync`ed (in --prepare), so
# each run writes fresh files and no run pays for an earlier run's writeback. The split
# comparison also has a durable variant: `voxctl split --fsync` vs `cp` + `sync FILE` vs the
# GNU pipeline + `sync FILES` (each returns once its outputs are on the disk).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-target/bench-split-verify}
SIZE=$((2 * 1024 * 1024 * 1024))
CHUNK=1900000000

if ! command -v hyperfine >/dev/null 2>&1; then
  sudo_=""; [ "$(id -u)" -ne 0 ] && sudo_="sudo"
  $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq hyperfine
fi
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)"; exit 1; }

# VOXCTL=/path/to/voxctl times another build (e.g. an older commit's) instead of this tree's.
if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
mkdir -p "$DIR"
cd "$DIR"

# Inputs: one 2 GiB asset, two 1 GiB files, and the two-part release of the asset.
A=voicebox-server-cuda
if [ ! -f $A ] || [ "$(stat -c %s $A)" -ne $SIZE ]; then
  echo "generating a 2 GiB random file..."
  head -c $SIZE /dev/urandom > $A
fi
for f in one two; do
  [ -f $f ] && [ "$(stat -c %s $f)" -eq $((SIZE / 2)) ] || head -c $((SIZE / 2)) /dev/urandom > $f
done
rm -rf rel && "$VOXCTL" -q split $A --out rel >/dev/null
sha256sum $A > $A.sha256
(cd rel && cp ../$A.sha256 . )
"$VOXCTL" -q verify -c $A.sha256 >/dev/null 2>&1 || true
openssl dgst -sha256 one two > /dev/null  # warm the cache
SHA=$(cut -d' ' -f1 $A.sha256)
printf '%s  one\n%s  two\n' "$(sha256sum one | cut -d' ' -f1)" "$(sha256sum two | cut -d' ' -f1)" > two.sha256

MODES=${MODES:-warm cold}
DROP='sync; echo 3 > /proc/sys/vm/drop_caches'
if [[ " $MODES " == *" cold "* ]] && ! (sync && echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then
  echo "note: cannot write /proc/sys/vm/drop_caches (needs root): skipping the cold runs"
  MODES=${MODES//cold/}
fi
CLEAN='rm -rf out gnu copy; mkdir -p gnu; sync'
GNU="split -b $CHUNK -d -a 2 $A gnu/$A.part && sha256sum $A > gnu/$A.sha256 && ls gnu/$A.part* > gnu/$A.manifest"
WARMIN="cat $A one two rel/* > /dev/null"
for mode in $MODES; do
  if [ "$mode" = cold ]; then
    cache=$DROP; H="hyperfine --runs $RUNS --style basic"
  else
    cache=$WARMIN; H="hyperfine --runs $RUNS --warmup 1 --style basic"
  fi
  echo; echo "== [$mode] split: 2 GiB into 1900000000-byte parts, with the whole-file and per-part SHA-256"
  $H --export-json split-$mode.json --prepare "$CLEAN; $cache" \
    -n "voxctl split" "$VOXCTL -q split $A --out out" \
    -n "GNU split + sha256sum" "$GNU" \
    -n "cp" "cp $A copy" \
    -n "openssl dgst -sha256 (hash floor)" "openssl dgst -sha256 $A"

  echo; echo "== [$mode] durable split: each command returns once its outputs are on the disk"
  $H --export-json splitsync-$mode.json --prepare "$CLEAN; $cache" \
    -n "voxctl split --fsync" "$VOXCTL -q split --fsync $A --out out" \
    -n "GNU split + sha256sum + sync" "$GNU && sync gnu/* gnu" \
    -n "cp + sync" "cp $A copy && sync copy ."
  rm -rf out gnu copy

  echo; echo "== [$mode] verify one 2 GiB file"
  $H --export-json verify1-$mode.json --prepare "$cache" \
    -n "voxctl verify --sha256" "$VOXCTL -q verify $A --sha256 $SHA" \
    -n "openssl dgst -sha256" "openssl dgst -sha256 $A" \
    -n "sha256sum -c" "sha256sum -c --quiet $A.sha256"

  echo; echo "== [$mode] verify two 1 GiB files"
  $H --export-json verify2-$mode.json --prepare "$cache" \
    -n "voxctl verify -c (2 files)" "$VOXCTL -q verify -c two.sha256" \
    -n "openssl dgst -sha256 (2 files)" "openssl dgst -sha256 one two"

  echo; echo "== [$mode] verify the two-part release: per-part hashes + whole-file hash"
  $H --export-json verifym-$mode.json --prepare "$cache" \
    -n "voxctl verify --manifest" "$VOXCTL -q verify --manifest rel/$A.manifest.json" \
    -n "openssl dgst -sha256 (one pass)" "openssl dgst -sha256 $A"
done

echo; echo "== peak RSS (GNU time)"
rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }
rm -rf out; sync
echo "voxctl split:             $(rss "$VOXCTL" -q split $A --out out) KiB"
rm -rf out
echo "voxctl verify --sha256:   $(rss "$VOXCTL" -q verify $A --sha256 $SHA) KiB"
echo "voxctl verify -c (2x1G):  $(rss "$VOXCTL" -q verify -c two.sha256) KiB"
echo "voxctl verify --manifest: $(rss "$VOXCTL" -q verify --manifest rel/$A.manifest.json) KiB"

echo; echo "== medians (min-max) and ratios of medians; below 1x means voxctl is faster"
MODES="$MODES" python3 - <<'PY'
import json, os
def load(f):
    return {r["command"]: r for r in json.load(open(f))["results"]}
for mode in os.environ["MODES"].split():
    s, d, v1, v2, vm = (load(f"{n}-{mode}.json") for n in ("split", "splitsync", "verify1", "verify2", "verifym"))
    print(f"-- {mode}")
    for group in (s, d, v1, v2, vm):
        for name, r in group.items():
            print(f'   {name:40} {r["median"]:6.2f} s ({r["min"]:.2f}-{r["max"]:.2f})')
    m = lambda g, n: g[n]["median"]
    def line(what, ratio, target):
        print(f"   {what:58} {ratio:5.2f}x   (target {target})")
    line("split / cp", m(s, "voxctl split") / m(s, "cp"), "<= 1.5x")
    line("split / one openssl pass (the hashing floor)", m(s, "voxctl split") / m(s, "openssl dgst -sha256 (hash floor)"), "-")
    line("cp / one openssl pass", m(s, "cp") / m(s, "openssl dgst -sha256 (hash floor)"), "-")
    line("split / GNU split + sha256sum", m(s, "voxctl split") / m(s, "GNU split + sha256sum"), "-")
    line("split --fsync / cp + sync", m(d, "voxctl split --fsync") / m(d, "cp + sync"), "-")
    line("split --fsync / GNU + sync", m(d, "voxctl split --fsync") / m(d, "GNU split + sha256sum + sync"), "-")
    line("verify 2 GiB: throughput vs openssl", m(v1, "openssl dgst -sha256") / m(v1, "voxctl verify --sha256"), ">= 0.95x")
    line("verify -c 2x1 GiB: throughput vs openssl", m(v2, "openssl dgst -sha256 (2 files)") / m(v2, "voxctl verify -c (2 files)"), ">= 1.6x")
    line("verify --manifest / one openssl pass", m(vm, "voxctl verify --manifest") / m(vm, "openssl dgst -sha256 (one pass)"), "<= 1.1x")
    line("verify 2 GiB / sha256sum -c", m(v1, "voxctl verify --sha256") / m(v1, "sha256sum -c"), "-")
PY
