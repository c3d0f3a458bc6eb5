#!/usr/bin/env bash
# Prints the path of an arm64 `node` that runs on this x64 machine under
# qemu-user, to check that the linux-arm64 prebuild loads (test/kernel/package.test.ts).
# It is Debian's nodejs:arm64 (Node.js 18), unpacked from its packages into a
# cache: it cannot be installed beside the x64 nodejs, and the official arm64
# binaries of Node.js 22+ hang at start under Debian 12's qemu-user 7.2 (seen
# here). N-API makes the check hold for every line. Needs
# scripts/setup-system.sh --cross-arm64 (qemu-user-static, the :arm64 libraries).
set -euo pipefail
cache="${NFC_NODE_CACHE:-/var/cache/netfilter-collector/node}/debian-arm64"
if [ ! -x "$cache/node" ]; then
  command -v qemu-aarch64-static >/dev/null || { echo "arm64-node: needs qemu-user-static (scripts/setup-system.sh --cross-arm64)" >&2; exit 1; }
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download nodejs:arm64 libnode108:arm64) >"$tmp/log" 2>&1 || {
    cat "$tmp/log" >&2
    echo "arm64-node: cannot download nodejs:arm64 (scripts/setup-system.sh --cross-arm64 adds the architecture)" >&2
    exit 1
  }
  rm -rf "$cache/root"
  mkdir -p "$cache/root"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$cache/root"; done
  cat >"$cache/node" <<WRAPPER
#!/bin/sh
exec qemu-aarch64-static -L / -E LD_LIBRARY_PATH=$cache/root/usr/lib/aarch64-linux-gnu $cache/root/usr/bin/node "\$@"
WRAPPER
  chmod 755 "$cache/node"
fi
echo "$cache/node"
