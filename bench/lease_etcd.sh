#!/usr/bin/env bash
# voxctl's etcd lease store against etcd's own client.
#
# One uncontended lease-protected command on the same local etcd, with hyperfine:
#   voxctl lease --store etcd://127.0.0.1:PORT run L -- true
#   etcdctl --endpoints http://127.0.0.1:PORT lock L true
# Both grant an etcd lease, take the lock in a transaction, run `true`, delete the key and
# revoke the lease. Target: voxctl no slower than etcdctl (ratio <= 1x).
#
# Usage: bench/lease_etcd.sh [RUNS]   (default 200). etcd runs on free loopback ports (never
# 2379) with its data dir under $TMPDIR (default /tmp; TMPDIR=/dev/shm takes the disk's fsync
# out of the figures). Needs etcd, etcdctl, hyperfine and jq (installed with apt-get if
# missing, without starting Debian's etcd service).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-200}"

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
command -v jq >/dev/null 2>&1 || need+=(jq)
if [ "${#need[@]}" -gt 0 ]; then
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
fi
# VOXCTL=/path/to/voxctl times another build (e.g. an older commit's) instead of this tree's.
if [ -z "${VOXCTL:-}" ]; then cargo build --release -q; VOXCTL=$PWD/target/release/voxctl; fi
voxctl="$VOXCTL"

work="$(mktemp -d -p "${TMPDIR:-/tmp}")"
read -r cport pport < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
etcd --name bench --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
  --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
  --initial-cluster "bench=http://127.0.0.1:$pport" >"$work/etcd.log" 2>&1 &
etcd_pid=$!
trap 'kill $etcd_pid; wait $etcd_pid 2>/dev/null || true; rm -rf "$work"' EXIT
endpoint="http://127.0.0.1:$cport"
for _ in $(seq 100); do
  ETCDCTL_API=3 etcdctl --endpoints "$endpoint" endpoint health >/dev/null 2>&1 && break
  sleep 0.1
done
echo "etcd $(etcd --version | head -1 | awk '{print $3}') on $endpoint, data dir on $(df -T "$work" | awk 'NR == 2 { print $2 }')"
export VOXCTL_STATE_DIR="$work/state" VOXCTL_LEASE_STORE="etcd://127.0.0.1:$cport/bench"
export ETCDCTL_API=3

mean() { jq -r ".results[$2].mean" "$1"; }
median() { jq -r ".results[$2].median" "$1"; }
echo "== one lease-protected \`true\`, uncontended ($runs runs)"
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/op.json" \
  "$voxctl lease run L -- true" \
  "etcdctl --endpoints $endpoint lock L true"
for stat in mean median; do
  v=$($stat "$work/op.json" 0)
  e=$($stat "$work/op.json" 1)
  awk -v s="$stat" -v v="$v" -v e="$e" 'BEGIN {
    printf "%-6s voxctl lease run (etcd): %.2f ms   etcdctl lock: %.2f ms   ratio: %.2fx (target <= 1x)\n",
      s, v * 1000, e * 1000, v / e }'
done
