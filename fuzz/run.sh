#!/usr/bin/env bash
# Runs every fuzz target for SECONDS_EACH seconds (default 20) with a 512 MB RSS limit, from
# its committed seed corpus, and fails if any target crashes, panics, leaks past the limit or
# times out on one input. Usage: fuzz/run.sh [TARGET...] (default: every target).
# New inputs go to target/fuzz-corpus/TARGET (not the committed corpus); a failing input is
# written under fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
# anyhow captures a backtrace for every error when RUST_BACKTRACE is set (cargo fuzz sets it
# for panics): that would make the targets whose parsers return anyhow errors 3-4x slower.
export RUST_LIB_BACKTRACE=0
seconds="${SECONDS_EACH:-20}"
toolchain="${FUZZ_TOOLCHAIN:-+nightly}"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo "$toolchain" fuzz list)
fi
cargo "$toolchain" fuzz build
failed=()
for t in "${targets[@]}"; do
  work="target/fuzz-corpus/$t"
  mkdir -p "$work" "artifacts/$t"
  echo "== $t (${seconds}s)"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: the memory bound;
  # -max_len: chunk indexes and manifests need more than libFuzzer's default 4 KiB.
  if ! cargo "$toolchain" fuzz run "$t" "$work" "corpus/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=512 -timeout=10 -max_len=65536 \
      -print_final_stats=1 2> "target/fuzz-$t.log"; then
    failed+=("$t")
    tail -40 "target/fuzz-$t.log" >&2
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
    "target/fuzz-$t.log" | tr '\n' ' ' || true
  echo
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz targets that failed: ${failed[*]}" >&2
  exit 1
fi
echo "all ${#targets[@]} fuzz targets ran ${seconds}s each without a failure"
