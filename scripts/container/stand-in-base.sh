#!/usr/bin/env bash
# Builds a STAND-IN for the official node:20-bookworm image, for machines that
# cannot pull from Docker Hub but reach Debian's mirror: a minimal Debian
# bookworm (debootstrap) plus this host's Node.js 20, laid out as the official
# image lays it out (/usr/local/bin/node, /usr/local/lib/node_modules/npm,
# headers in /usr/local/include/node). It is not the official image: it lacks
# the official image's extra Debian packages (buildpack-deps), yarn and
# corepack; Dockerfile.test installs what the project needs itself.
#
# Usage: stand-in-base.sh WORKDIR [TAG]   (root; podman and debootstrap)
# Tags the result TAG (default docker.io/library/node:20-bookworm) with the
# label org.netfilter-collector.stand-in=true, so it can be told apart and
# removed. Refuses to replace an image under TAG that is not a stand-in.
set -euo pipefail

work="${1:?usage: stand-in-base.sh WORKDIR [TAG]}"
tag="${2:-docker.io/library/node:20-bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
rootfs="$work/rootfs"

if podman image exists "$tag"; then
  if [ "$(podman image inspect -f '{{index .Labels "org.netfilter-collector.stand-in"}}' "$tag")" != "true" ]; then
    echo "stand-in-base: $tag exists and is not a stand-in; using it as it is"
    exit 0
  fi
  echo "stand-in-base: replacing the earlier stand-in $tag"
  podman rmi "$tag" >/dev/null
fi

node_bin="$(command -v node)"
case "$("$node_bin" -v)" in
  v20.*) ;;
  *) echo "stand-in-base: $node_bin is $("$node_bin" -v), need Node.js 20" >&2; exit 1 ;;
esac
node_prefix="$(dirname "$(dirname "$(readlink -f "$node_bin")")")"
npm_dir="$node_prefix/lib/node_modules/npm"
# Headers: where this host's npm builds addons from (nodedir), else beside node.
nodedir="$(npm config get nodedir 2>/dev/null || true)"
[ -n "$nodedir" ] && [ "$nodedir" != "undefined" ] && [ "$nodedir" != "null" ] || nodedir="$node_prefix"
headers="$nodedir/include/node"
for need in "$npm_dir/bin/npm-cli.js" "$headers/node_api.h" "$headers/common.gypi"; do
  [ -e "$need" ] || { echo "stand-in-base: missing $need" >&2; exit 1; }
done

rm -rf "$rootfs"
mkdir -p "$work"
echo "stand-in-base: debootstrap bookworm (minbase) into $rootfs"
debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

echo "stand-in-base: Node.js $("$node_bin" -v) and npm $(npm -v) from $node_prefix, headers from $headers"
install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/include"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
cp -a "$headers" "$rootfs/usr/local/include/node"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# This host may reach the registries through a TLS-intercepting egress whose
# CA is installed locally; the stand-in trusts what the host trusts, or npm
# inside it could not reach the registry. (The official image does not need this.)
extra_env=()
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null
  extra_env=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
fi

# Node.js must run on the stand-in's own libraries.
chroot "$rootfs" /usr/local/bin/node -e 'console.log("stand-in-base: inside: node " + process.version)'
chroot "$rootfs" /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js -v | sed 's/^/stand-in-base: inside: npm /'

rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
echo "stand-in-base: importing as $tag"
tar -C "$rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$("$node_bin" -v | cut -c2-)" \
  "${extra_env[@]}" \
  --change 'LABEL org.netfilter-collector.stand-in=true' \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
rm -rf "$rootfs"
