#!/usr/bin/env bash
# Fails when a file under native/ is not as clang-format (.clang-format) writes it; `npm run format` fixes it.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
for f in native/*.cc native/*.h; do
  if ! clang-format "$f" | diff -q - "$f" >/dev/null; then
    echo "native format: $f differs from clang-format's (npm run format)" >&2
    bad=1
  fi
done
exit "$bad"
