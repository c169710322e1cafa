#!/usr/bin/env bash
# voxctl quickstart: the main job end to end, offline, in a temporary directory.
#   1. make a stand-in backend binary (256 MiB by default) and a local release of it with `voxctl split`
#      (parts, S.sha256, S.manifest and S.manifest.json);
#   2. `voxctl fetch --variant cuda` from that release into a temporary data dir, with
#      progress (bars on a terminal, a status line otherwise), verified and installed;
#   3. `voxctl status` shows the install.
# Usage: examples/quickstart.sh
# It runs the `voxctl` on PATH when there is one (e.g. after `cargo install --locked --path .`),
# else builds this checkout's with cargo; VOXCTL=/path/to/voxctl picks another one.
# QUICKSTART_MIB sets the stand-in's size in MiB (default 256).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VOXCTL:-}" ]; then
  if VOXCTL=$(command -v voxctl); then
    echo "using the voxctl on PATH: $VOXCTL"
  else
    echo "no voxctl on PATH: building this checkout's (cargo build --release)"
    cargo build --release -q
    VOXCTL=$PWD/target/release/voxctl
  fi
fi
MIB=${QUICKSTART_MIB:-256}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export VOXCTL_STATE_DIR=$T/state VOXCTL_DATA_DIR=$T/data
ASSET=voicebox-server-cuda
mkdir -p "$T/build" "$T/release"

echo "== 1. a local release of a $MIB MiB $ASSET"
head -c $((MIB << 20)) /dev/urandom > "$T/build/$ASSET"
"$VOXCTL" split "$T/build/$ASSET" --out "$T/release" --part-size 100MiB
ls -l "$T/release"

echo "== 2. voxctl fetch --variant cuda --source $T/release"
"$VOXCTL" fetch --variant cuda --source "$T/release"

echo "== 3. voxctl status"
"$VOXCTL" status
cmp "$T/build/$ASSET" "$T/data/backends/$ASSET" && echo "installed file is byte-identical"
