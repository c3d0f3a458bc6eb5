#!/usr/bin/env bash
# Sets up a clone for use: the Debian packages (scripts/setup-system.sh, with
# sudo when not root), the npm packages (npm ci, only when package-lock.json
# changed since the last install) and the build (addon and TypeScript).
# Idempotent and quick when everything is in place. Sourced by demo.sh and
# test.sh (so the node it picks stays on their PATH); prints on stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# as_root CMD…: runs CMD as root (directly, or with sudo), or says how to.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "setup: '$*' needs root: run this as root, or install sudo" >&2
    return 1
  fi
}

command -v node >/dev/null && command -v npm >/dev/null || {
  echo "setup: needs Node.js (22, 24 or 26) with npm on PATH (e.g. from nodejs.org or NodeSource)" >&2
  exit 1
}

# shellcheck disable=SC2086 # NFC_SETUP_SYSTEM_ARGS: options for setup-system.sh (test.sh: --cross-arm64 in CI)
as_root bash scripts/setup-system.sh ${NFC_SETUP_SYSTEM_ARGS:-} >&2

# A node older than package.json's engines (Node.js 20, end of life): use the newest 24.x instead, for npm too.
oldest="$(node -p "require('./package.json').engines.node.replace(/^>=/, '')")"
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt "$oldest" ]; then
  old="$(node -v)"
  PATH="$(dirname "$(as_root bash scripts/node-line.sh 24)"):$PATH"
  export PATH
  echo "setup: Node.js $old is older than the supported lines; using Node.js $(node -v) (scripts/node-line.sh)" >&2
fi

# npm ci again only when the lock file is newer than the last install's record of it.
if [ ! -e node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
npm run --silent build >/dev/null 2>/tmp/nfc-build-$$.log || { cat /tmp/nfc-build-$$.log >&2; rm -f /tmp/nfc-build-$$.log; exit 1; }
rm -f /tmp/nfc-build-$$.log
echo "setup: built" >&2
