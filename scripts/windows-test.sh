#!/bin/sh
# Runs voxctl's integration suite (tests/it) for x86_64-pc-windows-gnu under Wine, on Linux.
#
# The same test binary as on Linux, cross-built with Debian's toolchain as
# scripts/windows-build.sh does (std built from source, output in target/windows), run by
# cargo-nextest through one target-runner setting (tests/windows/wine-run): the tests that
# cannot run on Windows are compiled out with `#[cfg(unix)]` (docs/windows-tests.md lists
# them with the reason).
#
# Steps, each timed on stderr ("windows-test: STEP took Ns"):
#   1. build the C test programs with mingw: bcryptprimitives.dll (ProcessPrng, which Wine 8
#      lacks and Rust's std imports) and fixture_bootloader.exe (the PyInstaller-like backend
#      of the restart, lease and reap tests), into the target dir;
#   2. create the Wine prefix target/windows/wineprefix (once; no display needed), with the
#      DLL in its system32 (so that every copy of a Rust .exe a test makes finds it) and
#      %TEMP% on a Z: path under target/windows/tmp (so that paths the tests hand to Linux
#      programs such as nginx are Linux paths with a drive letter in front);
#   3. build voxctl.exe (the first run also builds the standard library for the target);
#   4. build the test binary (cargo-nextest's build, with --no-run: it lists the tests by
#      running the binary under Wine, hence the prefix first);
#   5. run the suite.
#
# Usage: scripts/windows-test.sh [--setup-only] [cargo-nextest run arguments...]
#   scripts/windows-test.sh                          # the whole Windows suite
#   scripts/windows-test.sh -E 'test(/^split::/)'    # one area
#   scripts/windows-test.sh --setup-only             # steps 1 and 2 only (no Rust build)
# Needs: rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine64 (Debian), cargo-nextest.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
setup_only=
if [ "${1:-}" = --setup-only ]; then
    setup_only=1
    shift
fi

triple=x86_64-pc-windows-gnu
wine=/usr/lib/wine/wine64
for tool in /usr/bin/rustc /usr/bin/cargo x86_64-w64-mingw32-gcc "$wine" cargo-nextest; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "windows-test: $tool is missing; install rustc-web cargo-web rust-web-src" \
            "gcc-mingw-w64-x86-64 wine64 (apt-get) and cargo-nextest" >&2
        exit 2
    }
done

export CARGO_TARGET_DIR="$root/target/windows"
profile_dir="$CARGO_TARGET_DIR/$triple/debug"
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
export CARGO=/usr/bin/cargo
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$root/tests/windows/wine-run"
export WINEPREFIX="$CARGO_TARGET_DIR/wineprefix"
# No Wine debug channels on stderr (they would land in every test's output), no display: the
# suite is console programs only, and Wine runs them without an X server.
export WINEDEBUG=-all
unset DISPLAY WAYLAND_DISPLAY
# Wine's own dialogs (crash reports, "Wine Mono is missing") would wait for a click.
export WINEDLLOVERRIDES="mscoree,mshtml=;winedbg.exe=d"

# Debian's cargo may rewrite Cargo.lock in its own format; keep the committed one.
lock_backup=$(mktemp)
cp Cargo.lock "$lock_backup"
cleanup() {
    cp "$lock_backup" Cargo.lock
    rm -f "$lock_backup"
    # Ends every Windows process a test left behind in the prefix (never anything else).
    [ -d "$WINEPREFIX" ] && /usr/lib/wine/wineserver -k 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

timed() {
    step=$1
    shift
    start=$(date +%s)
    status=0
    "$@" || status=$?
    echo "windows-test: $step took $(($(date +%s) - start))s" >&2
    if [ "$status" -ne 0 ]; then
        echo "windows-test: $step failed (status $status)" >&2
        exit "$status"
    fi
}

cross() {
    /usr/bin/cargo "$@" -Zbuild-std=std,panic_abort --target "$triple"
}

build_c() {
    mkdir -p "$profile_dir"
    x86_64-w64-mingw32-gcc -shared -O2 -Wall -Werror -o "$profile_dir/bcryptprimitives.dll" \
        tests/windows/bcryptprimitives.c tests/windows/bcryptprimitives.def -ladvapi32
    x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -o "$profile_dir/fixture_bootloader.exe" \
        tests/windows/fixture_bootloader.c -lws2_32
    # Beside the executables too, where Windows looks first (the test binary is in deps/).
    mkdir -p "$profile_dir/deps"
    cp "$profile_dir/bcryptprimitives.dll" "$profile_dir/deps/"
}

prefix() {
    tmp="$CARGO_TARGET_DIR/tmp"
    mkdir -p "$tmp"
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
        # A half-made prefix (an interrupted wineboot) is made again from nothing.
        rm -rf "$WINEPREFIX"
        # Wine 8 from Debian's wine64 has no 32-bit half: its "syswow64\rundll32.exe" line is
        # expected and harmless.
        "$wine" wineboot -i >"$CARGO_TARGET_DIR/wineboot.log" 2>&1 || {
            cat "$CARGO_TARGET_DIR/wineboot.log" >&2
            return 1
        }
    fi
    # Z:\ is / in Wine: %TEMP% below target/windows keeps every temporary path a test makes a
    # Linux path behind "Z:", which the tests turn back into a Linux path for nginx and etcd.
    wtmp="Z:$(printf '%s' "$tmp" | tr / '\\')"
    for var in TEMP TMP; do
        "$wine" reg add 'HKCU\Environment' /v "$var" /t REG_SZ /d "$wtmp" /f >/dev/null
    done
    cp "$profile_dir/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
    /usr/lib/wine/wineserver -w
}

# The C programs and the prefix come first: cargo-nextest lists the tests of the binary it
# builds by running it, through Wine, which needs the prefix (and the DLL in it).
timed "build of the C test programs" build_c
timed "Wine prefix" prefix
[ -n "$setup_only" ] && exit 0
# examples/embed.rs runs in the suite; the other examples are Unix programs (the fixture
# backend's Windows counterpart is the C bootloader).
timed "build of voxctl.exe and examples/embed.rs (std too on the first run)" \
    cross build --bin voxctl --example embed
timed "build of the test binary" \
    cargo-nextest nextest run --no-run -Zbuild-std=std,panic_abort --target "$triple" --test it
# One wineserver for the whole run, and Wine's own background processes (services.exe,
# winedevice.exe, rpcss.exe...), started here with no stdio: started by the first test
# instead, they would hold that test's output pipe open, and nextest would wait on it for
# ever. They stay up as long as the persistent wineserver (cleanup ends it).
/usr/lib/wine/wineserver -k 2>/dev/null || true
/usr/lib/wine/wineserver -p </dev/null >/dev/null 2>&1
"$wine" cmd.exe /c exit </dev/null >/dev/null 2>&1
timed "Windows suite" \
    cargo-nextest nextest run -Zbuild-std=std,panic_abort --target "$triple" --test it "$@"
