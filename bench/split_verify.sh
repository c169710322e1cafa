#!/usr/bin/env bash
# Benchmarks `voxctl split` and `voxctl verify` against their peers on a 2 GiB file, with
# hyperfine (installed with apt-get if missing) and GNU time for peak RSS; prints ratios.
#
#   bench/split_verify.sh            # data in target/bench-split-verify (about 12 GB of disk)
#   BENCH_DIR=/somewhere RUNS=5 bench/split_verify.sh
#
# The page cache cannot be dropped without root, so every run is warm: the input is read
# once before timing, and each split/cp run starts with its previous output deleted and
# `sync`ed (hyperfine --prepare), so no run pays for the previous run's writeback.
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

cargo build --release -q
VOXCTL=$PWD/target/release/voxctl
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

H="hyperfine --runs $RUNS --warmup 1 --style basic"
echo; echo "== split: 2 GiB into 1900000000-byte parts, with the whole-file and per-part SHA-256"
$H --export-json split.json \
  --prepare 'rm -rf out gnu copy; mkdir -p gnu; sync' \
  -n "voxctl split" "$VOXCTL -q split $A --out out" \
  -n "GNU split + sha256sum" "split -b $CHUNK -d -a 2 $A gnu/$A.part && sha256sum $A > gnu/$A.sha256 && ls gnu/$A.part* > gnu/$A.manifest" \
  -n "cp" "cp $A copy"
rm -rf out gnu copy

echo; echo "== verify one 2 GiB file"
$H --export-json verify1.json \
  -n "voxctl verify --sha256" "$VOXCTL -q verify $A --sha256 $SHA" \
  -n "openssl dgst -sha256" "openssl dgst -sha256 $A" \
  -n "sha256sum -c" "sha256sum -c --quiet $A.sha256"

echo; echo "== verify two 1 GiB files"
$H --export-json verify2.json \
  -n "voxctl verify -c (2 files)" "$VOXCTL -q verify -c two.sha256" \
  -n "openssl dgst -sha256 (2 files)" "openssl dgst -sha256 one two"

echo; echo "== verify the two-part release: per-part hashes + whole-file hash"
$H --export-json verifym.json \
  -n "voxctl verify --manifest" "$VOXCTL -q verify --manifest rel/$A.manifest.json" \
  -n "openssl dgst -sha256 (one pass)" "openssl dgst -sha256 $A"

echo; echo "== peak RSS (GNU time)"
rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }
rm -rf out; sync
echo "voxctl split:             $(rss "$VOXCTL" -q split $A --out out) KiB"
rm -rf out
echo "voxctl verify --sha256:   $(rss "$VOXCTL" -q verify $A --sha256 $SHA) KiB"
echo "voxctl verify -c (2x1G):  $(rss "$VOXCTL" -q verify -c two.sha256) KiB"
echo "voxctl verify --manifest: $(rss "$VOXCTL" -q verify --manifest rel/$A.manifest.json) KiB"

echo; echo "== ratios (mean times; below 1 means voxctl is faster)"
python3 - <<'PY'
import json
def means(f):
    return {r["command"]: r["mean"] for r in json.load(open(f))["results"]}
s, v1, v2, vm = (means(f) for f in ("split.json", "verify1.json", "verify2.json", "verifym.json"))
def line(what, a, b, target):
    print(f"{what:58} {a/b:5.2f}x   (target {target})")
line("split / cp", s["voxctl split"], s["cp"], "<= 1.5x")
line("split / GNU split + sha256sum", s["voxctl split"], s["GNU split + sha256sum"], "-")
print(f"{'verify 2 GiB: throughput vs openssl':58} {v1['openssl dgst -sha256']/v1['voxctl verify --sha256']:5.2f}x   (target >= 0.95x)")
print(f"{'verify -c 2x1 GiB: throughput vs openssl':58} {v2['openssl dgst -sha256 (2 files)']/v2['voxctl verify -c (2 files)']:5.2f}x   (target >= 1.6x)")
line("verify --manifest / one openssl pass", vm["voxctl verify --manifest"], vm["openssl dgst -sha256 (one pass)"], "<= 1.1x")
line("verify 2 GiB / sha256sum -c", v1["voxctl verify --sha256"], v1["sha256sum -c"], "-")
PY
