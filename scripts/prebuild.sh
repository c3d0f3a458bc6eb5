#!/usr/bin/env bash
# Builds the prebuilt addons the package ships (prebuilds/linux-<arch>/), with
# prebuildify (N-API: one binary per platform and architecture serves every
# Node.js line). linux-arm64 is cross-compiled with Debian's crossbuild
# toolchain and the :arm64 libraries (scripts/setup-system.sh --cross-arm64);
# without them it is skipped with a note, unless NFC_PREBUILD_REQUIRE_ARM64=1.
# The host's build comes last, so build/ holds the host's addon afterwards
# (prebuildify builds in build/).
set -euo pipefail
cd "$(dirname "$0")/.."
# npx puts npm's node-gyp on PATH; the target is this Node (its headers: npm's nodedir, if set).
prebuildify=(npx --no-install prebuildify --napi --strip --tag-libc -t "$(node -p process.versions.node)")
host_arch="$(node -p process.arch)"
rm -rf prebuilds
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

if [ "$host_arch" = x64 ]; then
  if command -v aarch64-linux-gnu-g++ >/dev/null && [ -e /usr/lib/aarch64-linux-gnu/pkgconfig/libnetfilter_log.pc ]; then
    echo "prebuild: linux-arm64 (cross)"
    CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ \
      PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip \
      "${prebuildify[@]}" --arch arm64 >"$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
  elif [ "${NFC_PREBUILD_REQUIRE_ARM64:-}" = 1 ]; then
    echo "prebuild: no arm64 cross toolchain (run scripts/setup-system.sh --cross-arm64)" >&2
    exit 1
  else
    echo "prebuild: skipping linux-arm64 (no cross toolchain; scripts/setup-system.sh --cross-arm64 installs it)"
  fi
fi

echo "prebuild: linux-$host_arch"
"${prebuildify[@]}" >"$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
for f in prebuilds/*/*.node; do echo "prebuild: $f ($(stat -c %s "$f") bytes)"; done
