#!/usr/bin/env bash
# Installs the Debian packages the collector builds against and the tools its
# kernel tests and benchmarks use. Idempotent; needs root (or sudo).
set -euo pipefail

packages=(
  pkg-config build-essential python3
  libnetfilter-log-dev libnetfilter-conntrack-dev libnfnetlink-dev libmnl-dev
  nftables iptables conntrack iproute2 tcpdump iputils-ping util-linux procps
  ulogd2 ulogd2-json
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "setup-system: installing ${missing[*]}"
$SUDO apt-get update -qq
# ulogd2's package starts a daemon; keep it from starting (we run it ourselves in benchmarks).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-system: done"
