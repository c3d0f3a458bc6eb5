#!/usr/bin/env bash
# The README's first command: sets up the clone (scripts/setup.sh) and runs
# `netfilter-collector demo` as root (with sudo when not root). Arguments go
# to the demo (e.g. --format ecs, --keep-running).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup.sh
source scripts/setup.sh
node="$(command -v node)"
if [ "$(id -u)" -eq 0 ]; then
  exec "$node" dist/cli/main.js demo "$@"
fi
exec sudo "$node" dist/cli/main.js demo "$@"
