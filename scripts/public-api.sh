#!/usr/bin/env bash
# The library's public API, as cargo-public-api lists it (items only: no blanket, auto-trait
# or derived impls), with the features an app may enable (`sign`; not the tests' `testhook`
# or the fuzzers' `fuzzing`). crates/voxctl/public-api.txt is that list, committed, so that a
# change to the API shows in a diff and is a decision, not an accident.
#
# Usage: scripts/public-api.sh           rewrite crates/voxctl/public-api.txt
#        scripts/public-api.sh --check   exit 1, showing the difference, if the API changed
# Needs: cargo-public-api 0.52 (`cargo install --locked cargo-public-api@0.52.0`) and a nightly
# toolchain (rustdoc's JSON output).
set -euo pipefail
cd "$(dirname "$0")/.."
committed=crates/voxctl/public-api.txt
current=$(mktemp)
trap 'rm -f "$current"' EXIT
cargo public-api --package voxctl --features sign -sss >"$current"
if [ "${1:-}" = --check ]; then
    if ! diff -u "$committed" "$current"; then
        echo "public-api: the library's public API changed; if that is meant, run" \
            "scripts/public-api.sh and commit $committed" >&2
        exit 1
    fi
    echo "public-api: unchanged ($(wc -l <"$committed") lines)"
else
    cp "$current" "$committed"
    echo "public-api: wrote $committed ($(wc -l <"$committed") lines)"
fi
