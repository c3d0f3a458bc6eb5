#!/usr/bin/env bash
# The README's second command (and what CI runs): sets up the clone
# (scripts/setup.sh), packs the package once (npm pack: what npm would
# publish), runs the quality gate (typecheck, lint), then runs the whole suite — unit and real-kernel tests — on each
# supported Node.js line, as root (with sudo when not root). Ends with one
# line: "N passed, N failed, N skipped", the sums over the lines.
#   scripts/test.sh                   every line (NFC_NODE_LINES overrides the list)
#   scripts/test.sh --this-node       only this machine's node
#   scripts/test.sh test/unit         arguments after the options go to vitest
# Node.js binaries come from the npm registry once (scripts/node-line.sh) and
# are cached in /var/cache/netfilter-collector/node.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_LINES="${NFC_NODE_LINES:-22 24 26}"
this_node=0
if [ "${1:-}" = --this-node ]; then this_node=1; shift; fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# CI also builds the linux-arm64 prebuild, so the packed package is the one that would be published.
if [ "${CI:-}" = true ]; then export NFC_SETUP_SYSTEM_ARGS=--cross-arm64 NFC_PREBUILD_REQUIRE_ARM64=1; fi
# shellcheck source=setup.sh
source scripts/setup.sh

work="$(mktemp -d /tmp/nfc-test.XXXXXX)"
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
echo "test: npm pack" >&2
npm pack --silent --pack-destination "$work" >"$work/pack.log" 2>&1 || { cat "$work/pack.log" >&2; exit 1; }
tarball="$(ls "$work"/netfilter-collector-*.tgz)"
chmod 644 "$tarball"

if [ "$this_node" = 1 ]; then
  nodes=("$(command -v node)")
else
  nodes=()
  for line in $NODE_LINES; do nodes+=("$(as_root bash scripts/node-line.sh "$line")"); done
fi

passed=0 failed=0 skipped=0 summary=()

# The quality gate first (CONTRIBUTING.md): each check that fails counts as one failure.
for check in typecheck lint; do
  echo "test: npm run $check" >&2
  if npm run --silent "$check" >"$work/$check.log" 2>&1; then
    passed=$((passed + 1)) summary+=("$check: passed")
  else
    cat "$work/$check.log"
    failed=$((failed + 1)) summary+=("$check: FAILED (npm run $check)")
  fi
done

for node in "${nodes[@]}"; do
  version="$("$node" -v)"
  echo "test: === Node.js $version ===" >&2
  log="$work/vitest-$version.log"
  set +e
  as_root env "PATH=$PATH" "CI=${CI:-}" "NFC_PACKED_TARBALL=$tarball" \
    "$node" node_modules/vitest/vitest.mjs run "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -1)"
  if [ -z "$line" ]; then line="0 passed, 1 failed, 0 skipped"; fi
  read -r p _ f _ s _ <<<"${line//,/}"
  # A run that exited non-zero with no failed test (a crash, an error outside tests) counts as one failure.
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  summary+=("Node.js $version: $p passed, $f failed, $s skipped")
done

echo
for s in "${summary[@]}"; do echo "test: $s"; done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
