#!/usr/bin/env bash
# Benchmarks the chunk index (figures in BENCHMARKS.md "Chunk index"):
#
# 1. cost: `voxctl split` of a 2 GiB random file with the index (the default) and with
#    --no-index, interleaved for RUNS rounds (the input read into the page cache and the
#    previous outputs deleted and synced before each run); wall and CPU time (user + system)
#    and peak RSS from GNU time; the median over rounds of each round's wall ratio.
# 2. sizes: `examples/chunk_sizes speed` (chunker and chunker + BLAKE3 throughput in CPU time,
#    index size, per candidate min/avg/max), `examples/chunk_sizes split` (the split cost of
#    each candidate through the library) and `voxctl index --avg-size` 16K/32K/64K on the
#    2 GiB file.
# 3. reuse: `examples/chunk_sizes reuse OLD NEW` on pairs of builds: PAIRS="old:new ..."
#    (default: a PyInstaller-style archive of the shared libraries in /usr/lib/x86_64-linux-gnu,
#    each its own zlib stream, and a copy with one file changed, one inserted and one removed;
#    add a real pair, e.g. two PyInstaller builds, with PAIRS).
#
#   bench/index.sh                          # data in target/bench-index (about 7 GB of disk)
#   RUNS=7 STEPS="cost" bench/index.sh
#   PAIRS="a/old:a/new b/old:b/new" STEPS=reuse bench/index.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
STEPS=${STEPS:-cost sizes reuse}
DIR=${BENCH_DIR:-target/bench-index}
SIZE=$((2 * 1024 * 1024 * 1024))
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)"; exit 1; }
if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
cargo build --release -q --example chunk_sizes
SIZES=$PWD/target/release/examples/chunk_sizes
mkdir -p "$DIR"
cd "$DIR"

A=voicebox-server-cuda
if [ ! -f $A ] || [ "$(stat -c %s $A)" -ne $SIZE ]; then
  echo "generating a 2 GiB random file..."
  head -c $SIZE /dev/urandom > $A
fi

if [[ " $STEPS " == *" cost "* ]]; then
  echo "== split 2 GiB (1,900,000,000-byte parts), with the index vs --no-index, $RUNS rounds"
  : > cost.txt
  for i in $(seq "$RUNS"); do
    for mode in no-index index; do
      flag=""; [ $mode = no-index ] && flag=--no-index
      rm -rf out; sync; cat $A > /dev/null
      /usr/bin/time -f "$mode %e %U %S %M" -a -o cost.txt "$VOXCTL" -q split $flag $A --out out > /dev/null
      echo "  round $i $mode: $(tail -1 cost.txt | cut -d' ' -f2-) (wall s, user s, sys s, KiB); load $(cut -d' ' -f1 /proc/loadavg)"
    done
  done
  rm -rf out
  python3 - <<'PY'
import statistics as st
rows = [l.split() for l in open("cost.txt")]
get = lambda m, k: [float(r[k]) for r in rows if r[0] == m]
for m in ("no-index", "index"):
    w, u, s, rss = get(m, 1), get(m, 2), get(m, 3), get(m, 4)
    print(f"   {m:9} wall median {st.median(w):.2f} s ({min(w):.2f}-{max(w):.2f}), "
          f"CPU median {st.median([a + b for a, b in zip(u, s)]):.2f} s, peak RSS {max(rss) / 1024:.1f} MiB")
ratios = [b / a for a, b in zip(get("no-index", 1), get("index", 1))]
print(f"   wall ratio index / no-index: median {st.median(ratios):.2f}x "
      f"({min(ratios):.2f}-{max(ratios):.2f}); target <= 1.25x")
cpu = [(float(b[2]) + float(b[3])) - (float(a[2]) + float(a[3]))
       for a, b in zip([r for r in rows if r[0] == "no-index"], [r for r in rows if r[0] == "index"])]
print(f"   CPU the index adds: median {st.median(cpu):.2f} s")
PY
fi

if [[ " $STEPS " == *" sizes "* ]]; then
  echo; echo "== chunker + BLAKE3 per candidate (CPU time, 1 GiB in memory, best of 3)"
  "$SIZES" speed 1024
  echo; echo "== split cost per candidate, through the library (interleaved, $RUNS rounds)"
  "$SIZES" split $A out-lib "$RUNS" | tail -8
  echo; echo "== voxctl index at 16K/32K/64K averages"
  for avg in 16K 32K 64K; do
    cat $A > /dev/null
    /usr/bin/time -f "   wall %e s, user %U s, sys %S s, %M KiB" "$VOXCTL" index --force --out idx --avg-size $avg $A
  done
  rm -rf idx
fi

if [[ " $STEPS " == *" reuse "* ]]; then
  if [ -z "${PAIRS:-}" ]; then
    if [ ! -f pyi-like-old.bin ]; then
      python3 - <<'PY'
# PyInstaller's one-file layout in miniature: each bundled file its own zlib stream, then a
# table of contents. The new build changes one file in the middle, inserts one and removes
# one, so every later offset shifts.
import hashlib, os, zlib
root = "/usr/lib/x86_64-linux-gnu"
files, total = [], 0
for name in sorted(os.listdir(root)):
    p = os.path.join(root, name)
    if ".so" in name and os.path.isfile(p) and not os.path.islink(p):
        if total + os.path.getsize(p) <= 600 << 20:
            files.append(p); total += os.path.getsize(p)
def build(out, entries):
    toc = []
    with open(out, "wb") as f:
        f.write(b"\x7fELF-bootloader" * 1000)
        for name, data in entries:
            z = zlib.compress(data, 9)
            toc.append((f.tell(), len(z), len(data), name))
            f.write(z)
        for t in toc:
            f.write(("%d %d %d %s\n" % t).encode())
entries = [(p, open(p, "rb").read()) for p in files]
build("pyi-like-old.bin", entries)
mid = len(entries) // 2
name, data = entries[mid]
entries[mid] = (name, data[: len(data) // 2] + b"patched" + data[len(data) // 2 + 7 :])
entries.insert(mid // 2, ("new-module.so", os.urandom(300_000)))
del entries[(3 * len(entries)) // 4]
build("pyi-like-new.bin", entries)
print("   %d files, %d MiB before compression" % (len(files), total >> 20))
PY
    fi
    PAIRS="pyi-like-old.bin:pyi-like-new.bin"
  fi
  for pair in $PAIRS; do
    echo; echo "== reuse: ${pair%%:*} -> ${pair##*:}"
    "$SIZES" reuse "${pair%%:*}" "${pair##*:}"
  done
fi
