#!/usr/bin/env bash
# Installs the Debian packages the collector builds against and the tools its
# kernel tests and benchmarks use. Idempotent; needs root (or sudo).
#   --cross-arm64   also the crossbuild toolchain and the :arm64 libraries, to
#                   build the linux-arm64 prebuild (scripts/prebuild.sh), and
#                   qemu-user with an arm64 runtime to load it (scripts/arm64-node.sh)
set -euo pipefail
cross_arm64=0
for arg in "$@"; do
  case "$arg" in
    --cross-arm64) cross_arm64=1 ;;
    *) echo "setup-system: unknown option $arg" >&2; exit 2 ;;
  esac
done

packages=(
  pkg-config build-essential python3
  libnetfilter-log-dev libnetfilter-conntrack-dev libnfnetlink-dev libmnl-dev
  nftables iptables conntrack iproute2 tcpdump iputils-ping util-linux procps
  ulogd2 ulogd2-json
  rsyslog rsyslog-gnutls openssl prometheus
  nfdump tshark
  clang-format
)

if [ "$cross_arm64" = 1 ]; then
  packages+=(crossbuild-essential-arm64 libnetfilter-log-dev:arm64 libnetfilter-conntrack-dev:arm64 libnfnetlink-dev:arm64 libmnl-dev:arm64)
  # To load the arm64 prebuild in Debian's nodejs:arm64 under qemu-user (scripts/arm64-node.sh): its runtime.
  packages+=(qemu-user-static node-cjs-module-lexer node-acorn node-undici libbrotli1:arm64 libc-ares2:arm64 libicu72:arm64
    libnghttp2-14:arm64 libssl3:arm64 libuv1:arm64 zlib1g:arm64)
fi

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
if [ "$cross_arm64" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
fi
$SUDO apt-get update -qq
# ulogd2's package starts a daemon; keep it from starting (we run it ourselves in benchmarks).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
# tshark asks whether non-root users may capture; answer no without a prompt.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | $SUDO debconf-set-selections
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-system: done"
