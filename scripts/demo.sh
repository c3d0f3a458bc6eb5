#!/usr/bin/env bash
# The README's first command: sets up the clone (scripts/setup.sh) and runs
# `netfilter-collector demo` as root (with sudo when not root). Arguments go
# to the demo (e.g. --format ecs, --keep-running).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node="$(command -v node)"
# The machine's Node.js when it is a supported line, else the newest 24.x (fetched once from the npm registry).
if ! node -e 'process.exit(require("./dist/node-version.js").unsupportedNodeMessage(process.versions.node) ? 1 : 0)'; then
  echo "demo: Node.js $(node -v) is not a supported line; using Node.js 24 (scripts/node-line.sh)" >&2
  if [ "$(id -u)" -eq 0 ]; then node="$(bash scripts/node-line.sh 24)"; else node="$(sudo bash scripts/node-line.sh 24)"; fi
fi
if [ "$(id -u)" -eq 0 ]; then
  exec "$node" dist/cli/main.js demo "$@"
fi
exec sudo "$node" dist/cli/main.js demo "$@"
