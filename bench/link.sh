# Sourced by bench/sign.sh and bench/delta.sh: a shaped link for nginx.
#
# shape_link RATE NS: a /30 on a veth pair, the caller's end in this namespace, nginx's end in
# a new network namespace NS whose egress (the download direction) a tc tbf qdisc limits to
# RATE (tc units: 400mbit), shared by all of a fetch's connections as on a real link. burst
# covers a 64 KiB GSO segment many times over. Sets HOST (nginx's address) and RUN (the
# command prefix that runs nginx in NS). Needs root and iproute2.
# unshape_link NS: removes both again (for the caller's EXIT trap).
shape_link() {
  local rate=$1 ns=$2 net
  net=10.$((RANDOM % 200 + 20)).$((RANDOM % 250)).
  ip netns add "$ns"
  ip link add "${ns}a" type veth peer name "${ns}b"
  ip link set "${ns}b" netns "$ns"
  ip addr add "${net}1/30" dev "${ns}a"; ip link set "${ns}a" up
  ip -n "$ns" addr add "${net}2/30" dev "${ns}b"; ip -n "$ns" link set "${ns}b" up
  ip -n "$ns" link set lo up
  tc -n "$ns" qdisc add dev "${ns}b" root tbf rate "$rate" burst 4mb latency 100ms
  HOST=${net}2
  RUN=(ip netns exec "$ns")
}

unshape_link() {
  ip link del "$1a" 2>/dev/null
  ip netns del "$1" 2>/dev/null
}
