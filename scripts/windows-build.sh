#!/bin/sh
# Cross-checks (or builds) voxctl for x86_64-pc-windows-gnu with Debian's Rust toolchain.
#
# rustup cannot add targets on the build machines, so this uses Debian's `rustc-web`,
# `cargo-web` and `rust-web-src` (which ship the standard library's source) to build std for
# the target, linked by `gcc-mingw-w64-x86-64`. Debian's tools are named by path because
# rustup's stay first on PATH. The output goes to target/windows, so the host build under
# target/ is never invalidated.
#
# Usage: scripts/windows-build.sh [check|build] [extra cargo args...]   (default: check)
# Prints cargo's output; the last line is "windows-build: N errors" for `check`.
set -eu

cd "$(dirname "$0")/.."
mode=${1:-check}
[ $# -gt 0 ] && shift

for tool in /usr/bin/rustc /usr/bin/cargo x86_64-w64-mingw32-gcc; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "windows-build: $tool is missing; install rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64" >&2
        exit 2
    }
done

# Debian's cargo may rewrite Cargo.lock in its own format; keep the committed one.
lock_backup=$(mktemp)
cp Cargo.lock "$lock_backup"
trap 'cp "$lock_backup" Cargo.lock; rm -f "$lock_backup"' EXIT

log=target/windows/last-$mode.log
mkdir -p target/windows
status=0
RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
CARGO_TARGET_DIR=target/windows \
    /usr/bin/cargo "$mode" -Zbuild-std=std,panic_abort --target x86_64-pc-windows-gnu "$@" \
    2>&1 | tee "$log" || status=$?
# tee hides cargo's status in a plain pipeline; recover it from the log.
if grep -q '^error' "$log"; then status=1; fi
# One diagnostic per "error" header; cargo's own summary lines are not diagnostics.
errors=$(grep '^error' "$log" | grep -cv '^error: could not compile\|^error: aborting' || true)
echo "windows-build: $errors errors (log: $log)"
if [ "$errors" -gt 0 ]; then
    echo "windows-build: errors per file:"
    awk '/^error/ {e=1; next} e && /^ *--> / {sub(/:.*/, "", $2); print $2; e=0}' "$log" \
        | sort | uniq -c | sort -rn
fi
exit $status
