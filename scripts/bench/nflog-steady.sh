#!/usr/bin/env bash
# Steady-rate NFLOG latency: RATE packets/s for SECONDS, sent from namespace A
# over a veth to namespace B, where an input rule logs them to group 51 (so
# packets carry the kernel's receive timestamp). The collector's --stats line
# gives latency from that timestamp, and from its reader thread, to output.
#   sudo scripts/bench/nflog-steady.sh [RATE] [SECONDS]      (default 50000 20)
set -euo pipefail
RATE=${1:-50000}
SECS=${2:-20}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
A=nfc-steady$$-a
B=nfc-steady$$-b
cleanup() {
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

cc -O2 -I "$ROOT/scripts/bench" -o "$TMP/udp-flood" "$ROOT/scripts/bench/udp-flood.c"
ip netns add "$A"
ip netns add "$B"
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" addr add 10.99.0.1/24 dev va
ip -n "$B" addr add 10.99.0.2/24 dev vb
ip -n "$A" link set va up
ip -n "$B" link set vb up
ip netns exec "$B" nft -f - <<'NFT'
table inet steady { chain in { type filter hook input priority 0; udp dport 9000 counter log group 51 drop; }; }
NFT

/usr/bin/time -f '{"cpu_user_s":%U,"cpu_sys_s":%S,"max_rss_kb":%M}' -o "$TMP/time.json" \
  node "$ROOT/dist/cli/main.js" --nflog 51 --netns "$B" --output /dev/null --idle-exit 2000 --stats 2>"$TMP/stats.txt" &
COLLECTOR=$!
sleep 1
ip netns exec "$A" "$TMP/udp-flood" 10.99.0.2 9000 $((RATE * SECS)) 64 $((SECS + 30)) "$RATE"
wait "$COLLECTOR"
echo "kernel logged: $(ip netns exec "$B" nft list table inet steady | grep -o 'packets [0-9]*')"
echo "collector: $(tail -1 "$TMP/stats.txt")"
echo "collector process: $(cat "$TMP/time.json")"
