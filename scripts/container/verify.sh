#!/usr/bin/env bash
# Proves Dockerfile.test on a machine without a Docker engine: builds the image
# with podman and runs the whole suite in it, privileged, as the README says.
# For this verification only; podman is not a dependency of the project.
#
#   bash scripts/container/verify.sh          build, run the suite, clean up
#   KEEP=1 bash scripts/container/verify.sh   keep the images and the clone
#   bash scripts/container/verify.sh clean    remove what an earlier run kept
#
# Root. What it does:
#  1. installs podman, runc and debootstrap from Debian if missing;
#  2. if node:24-bookworm cannot be had, builds a local STAND-IN for it
#     (stand-in-base.sh: Debian bookworm minbase + this host's Node.js 20);
#  3. clones HEAD of this repository (committed files only) and runs
#     `podman build -f Dockerfile.test` in the clone;
#  4. `podman run --rm --privileged --network host`,
#     keeps the output in $LOGS/suite.log and prints its closing line.
# Then it removes the images it made, the stand-in and $WORK (not the logs).
# It changes no firewall rule or sysctl itself (network host: no bridge, no
# NAT rules); the suite's tests work in namespaces they create.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="${WORK:-/var/tmp/nfc-container}"
IMAGE="localhost/netfilter-collector-test"
BASE="docker.io/library/node:24-bookworm"
LOGS="${LOGS:-/tmp/nfc-container-logs}"

remove_all() {
  podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
  if [ "$(podman image inspect -f '{{index .Labels "org.netfilter-collector.stand-in"}}' "$BASE" 2>/dev/null)" = "true" ]; then
    podman rmi -f "$BASE" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}

if [ "${1:-}" = "clean" ]; then
  remove_all
  echo "verify: removed $IMAGE, the stand-in base and $WORK"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || { echo "verify: run as root" >&2; exit 1; }
missing=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "verify: installing ${missing[*]} (for this check only)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ "${KEEP:-}" = "1" ] || trap remove_all EXIT
mkdir -p "$WORK" "$LOGS"

if ! podman image exists "$BASE" && ! podman pull -q "$BASE" >/dev/null 2>&1; then
  echo "verify: $BASE cannot be pulled here; building a local stand-in for it"
  bash "$repo/scripts/container/stand-in-base.sh" "$WORK" "$BASE"
fi

# Options this machine's container runtime needs. crun refuses a cgroup v1/v2
# hybrid host with controllers on v2, where runc copes. Without
# CAP_SYS_RESOURCE, podman's default rlimits (higher than ours) cannot be set:
# ask for our own open-files limit and for at most 32768 processes (podman
# itself runs with that here). Take the first set under which a container starts.
nofile="$(ulimit -Hn)"
nproc="$(ulimit -Hu)"
if [ "$nproc" = "unlimited" ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
candidates=(
  ""
  "--runtime runc"
  "--ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc"
  "--runtime runc --ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc"
)
runtime_opts=""
found=""
for c in "${candidates[@]}"; do
  # shellcheck disable=SC2086  # word splitting of the option set is wanted
  if podman run --rm --network none $c "$BASE" true >/dev/null 2>&1; then runtime_opts="$c"; found=1; break; fi
done
[ -n "$found" ] || { echo "verify: no container starts here; last try:" >&2; podman run --rm --network none "$BASE" true; exit 1; }
echo "verify: runtime options: ${runtime_opts:-(none)}"

clone="$WORK/clone"
rm -rf "$clone"
git clone -q "$repo" "$clone"
echo "verify: building $IMAGE from $(git -C "$clone" log -1 --format='%h %s')"
# --layers=false: no intermediate images are left behind to clean up.
# shellcheck disable=SC2086
(cd "$clone" && podman build $runtime_opts --layers=false --network host -f Dockerfile.test -t "$IMAGE" . ) >"$LOGS/build.log" 2>&1 \
  || { tail -30 "$LOGS/build.log" >&2; echo "verify: build failed (log: $LOGS/build.log)" >&2; exit 1; }
echo "verify: built; running the suite (log: $LOGS/suite.log)"

set +e
# shellcheck disable=SC2086
timeout 3600 podman run --rm --privileged --network host $runtime_opts "$IMAGE" >"$LOGS/suite.log" 2>&1
status=$?
set -e
closing="$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$LOGS/suite.log" | tail -1 || true)"
echo "verify: suite exit status $status"
echo "verify: closing line: ${closing:-(none)}"
exit "$status"
