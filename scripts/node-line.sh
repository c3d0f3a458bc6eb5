#!/usr/bin/env bash
# Prints the path of a `node` binary of the newest release of one Node.js line
# (22, 24, 26 …), fetched from the npm registry (the node-linux-<arch> package
# carries the binary) and cached, so no other download is needed.
#   scripts/node-line.sh 24        → /var/cache/netfilter-collector/node/24.22.3/bin/node
# The cache (NFC_NODE_CACHE) is world-readable: kernel tests run children as
# nobody with the same binary. Set NFC_NODE_OFFLINE=1 to use the newest cached
# release of the line without asking the registry.
set -euo pipefail
line="${1:?usage: node-line.sh MAJOR}"
cache="${NFC_NODE_CACHE:-/var/cache/netfilter-collector/node}"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "node-line: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac

newest_cached() { ls -1 "$cache" 2>/dev/null | grep -E "^${line}\." | sort -V | tail -1; }

if [ "${NFC_NODE_OFFLINE:-}" = 1 ]; then
  version="$(newest_cached)"
  [ -n "$version" ] || { echo "node-line: no cached Node.js $line in $cache" >&2; exit 1; }
else
  version="$(npm view "node-linux-$arch@^$line" version --json 2>/dev/null | node -e '
    const v = JSON.parse(require("fs").readFileSync(0, "utf8")); const a = [].concat(v);
    process.stdout.write(a[a.length - 1] ?? "")')" || true
  if [ -z "$version" ]; then
    version="$(newest_cached)"
    [ -n "$version" ] || { echo "node-line: cannot find node-linux-$arch@^$line on the npm registry, and none is cached" >&2; exit 1; }
    echo "node-line: the registry did not answer; using the cached $version" >&2
  fi
fi

dir="$cache/$version"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  chmod 755 "$cache" "$(dirname "$cache")" 2>/dev/null || true
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null && tar -xzf ./*.tgz)
  [ -x "$tmp/package/bin/node" ] || { echo "node-line: node-linux-$arch@$version has no bin/node" >&2; exit 1; }
  rm -rf "$dir.partial" && mkdir -p "$dir.partial/bin"
  mv "$tmp/package/bin/node" "$dir.partial/bin/node"
  chmod -R a+rX "$dir.partial"
  mv "$dir.partial" "$dir"
fi
echo "$dir/bin/node"
