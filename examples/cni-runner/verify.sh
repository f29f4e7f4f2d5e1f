#!/bin/bash
# Builds cni-runner and drives the Debian reference chain
# bridge(+host-local) -> portmap -> tuning (testdata/bridge-chain.conflist)
# through add / check / del / del against a fresh network namespace.
#
# The runner itself runs inside a second namespace (the "node"), so the
# bridge, the host-side veth and portmap's iptables rules never touch the
# host's namespace. Needs root, iproute2, iptables and the apt packages in
# README.md. Everything it creates is removed on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tag=$$
work=$(mktemp -d /tmp/cilrs-runner-verify.XXXXXX)
node=cilrs-runner-node-$tag
ctr=cilrs-runner-test-$tag
br=cilrsbr$((tag % 100000))

cleanup() {
    ip netns del "$ctr" 2>/dev/null || true
    ip netns del "$node" 2>/dev/null || true   # takes the bridge and iptables rules with it
    rm -rf "$work"
}
trap cleanup EXIT

step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; exit 1; }

step build
start=$(date +%s%N)
(cd "$here" && GOPATH="$work/gopath:/usr/share/gocode" GO111MODULE=off GOFLAGS= \
    GOCACHE="$work/gocache" go build -o "$work/cni-runner" .)
echo "build took $(( ($(date +%s%N) - start) / 1000000 )) ms"
runner=$work/cni-runner

sed -e "s/\"cilrsbr0\"/\"$br\"/" -e "s#/tmp/cilium-rs-cni-runner-ipam#$work/ipam#" \
    "$here/testdata/bridge-chain.conflist" >"$work/net.conflist"

ip netns add "$node"
ip netns add "$ctr"
ip -n "$node" link set lo up
in_node() { ip netns exec "$node" "$@"; }
in_ctr() { ip netns exec "$ctr" "$@"; }

common=(--conflist "$work/net.conflist" --netns "/run/netns/$ctr"
    --container-id "cilrs-test-$tag" --ifname eth0 --cni-path /usr/lib/cni
    --cache-dir "$work/cache")

step version
in_node "$runner" version "${common[@]}"

step add
out=$(in_node "$runner" add "${common[@]}" \
    --args "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p1" \
    --capability-args '{"portMappings":[{"hostPort":18080,"containerPort":80,"protocol":"tcp"}]}')
echo "$out"
echo "$out" | grep -q '"cniVersion":"1.0.0"' || fail "add result version"
echo "$out" | grep -q "\"sandbox\":\"/run/netns/$ctr\"" || fail "no sandbox interface"
in_ctr ip -4 -o addr show eth0 | grep -q 'inet 10.250.91.2/24' || fail "eth0 address"
in_ctr ip -4 route | grep -q 'default via 10.250.91.1' || fail "default route"
[ "$(in_ctr sysctl -n net.core.somaxconn)" = 512 ] || fail "tuning sysctl"
in_node iptables -t nat -S | grep -q 'dport 18080 -j DNAT --to-destination 10.250.91.2:80' \
    || fail "portmap DNAT rule"
in_ctr ping -c1 -W2 10.250.91.1 >/dev/null || fail "ping gateway"
echo "eth0 10.250.91.2/24, default via .1, somaxconn 512, DNAT 18080->:80, gateway answers ping"

# With the port mappings of the ADD (reused from the cache), Debian's portmap
# 1.1.1 CHECK also looks for an IPv6 DNAT chain that an IPv4-only ADD never
# made, and fails: containernetworking/plugins#819, fixed upstream after 1.1.1.
step "check with the cached port mappings (portmap 1.1.1 bug #819, informational)"
set +e
in_node "$runner" check "${common[@]}"; echo "rc=$?"
set -e

# Explicit empty capability args: portmap skips its check, bridge, host-local
# and tuning check everything they made.
step check
in_node "$runner" check "${common[@]}" --capability-args '{}'

step "check after breaking eth0 (must fail)"
in_ctr ip addr flush dev eth0
set +e
out=$(in_node "$runner" check "${common[@]}" --capability-args '{}')
rc=$?
set -e
echo "$out"
[ "$rc" = 1 ] || fail "check on a broken interface returned $rc"
echo "$out" | python3 -c 'import json,sys; e=json.load(sys.stdin); assert isinstance(e["code"], int) and e["msg"], e'

step del
in_node "$runner" del "${common[@]}"
in_ctr ip -o link show eth0 >/dev/null 2>&1 && fail "eth0 still there"
in_node iptables -t nat -S | grep -q 18080 && fail "portmap rules left behind"
[ -e "$work/cache/results/cilrs-runner-test-cilrs-test-$tag-eth0" ] && fail "cache entry left"
ls "$work/ipam/cilrs-runner-test" | grep -q '^10\.' && fail "IP still reserved"
echo "eth0 gone, DNAT rules gone, IP released, cache entry gone"

step "del again (idempotent)"
in_node "$runner" del "${common[@]}"

step "status / gc (not in libcni 1.1.2)"
set +e
in_node "$runner" status "${common[@]}"; echo "rc=$?"
in_node "$runner" gc "${common[@]}" --valid "a/eth0,b/eth1"; echo "rc=$?"
set -e

step "error JSON: unknown plugin type"
sed -e 's/"type": "bridge"/"type": "no-such-plugin"/' "$work/net.conflist" >"$work/bad.conflist"
set +e
in_node "$runner" add --conflist "$work/bad.conflist" --netns "/run/netns/$ctr" \
    --container-id "cilrs-bad-$tag" --cni-path /usr/lib/cni --cache-dir "$work/cache"
echo "rc=$?"
set -e

step "error JSON: plugin error (cniVersion 9.9.9)"
sed -e 's/"cniVersion": "1.0.0"/"cniVersion": "9.9.9"/' "$work/net.conflist" >"$work/v.conflist"
set +e
in_node "$runner" add --conflist "$work/v.conflist" --netns "/run/netns/$ctr" \
    --container-id "cilrs-v-$tag" --cni-path /usr/lib/cni --cache-dir "$work/cache"
echo "rc=$?"
set -e

echo PASS
