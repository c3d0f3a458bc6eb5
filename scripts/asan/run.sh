#!/usr/bin/env bash
# Native memory safety check: builds the addon with AddressSanitizer and
# UndefinedBehaviorSanitizer into a separate directory (build/Release, which
# everything else uses, is not touched), runs scripts/asan/drive.js under it
# (an NFLOG + conntrack load test in a lab namespace, then open/close cycles
# of collectors), and prints a verdict from the sanitizer logs and the fd and
# RSS figures. Exit status 0 on PASS, 1 on FAIL, 2 when it could not run.
#
#   bash scripts/asan/run.sh [--packets N] [--flows N] [--cycles N]     (or: npm run asan -- ...)
#
# Environment: NFC_ASAN_DIR (default /tmp/netfilter-collector-asan): build and logs.
#
# How node runs an ASan addon (node itself is not built with ASan):
#   - the addon is compiled and linked with -fsanitize=address,undefined, so it
#     needs libasan/libubsan at load time; the ASan runtime must be the first
#     library in the process, so node is started with LD_PRELOAD=<the libasan
#     the addon links>;
#   - ASAN_OPTIONS: detect_leaks=1 (LeakSanitizer at exit), a small quarantine
#     (quarantine_size_mb=16, so freed memory is handed back and RSS means
#     something), reports to $NFC_ASAN_DIR/logs/asan.<pid>;
#   - UBSAN_OPTIONS: print_stacktrace=1, reports to $NFC_ASAN_DIR/logs/ubsan.<pid>;
#   - no LSan suppressions: every allocation the addon makes has node and V8
#     frames below it, so suppressing node/V8 would hide the addon's leaks
#     too. Instead verdict.js counts a leak as the addon's when its stack has
#     a frame in netfilter_collector.node or in the libraries it calls
#     (libnetfilter_log, libnetfilter_conntrack, libnfnetlink, libmnl), and
#     lists the rest (node's own, at exit) without failing on them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${NFC_ASAN_DIR:-/tmp/netfilter-collector-asan}"
LOGS="$DIR/logs"
say() { echo "[asan] $*"; }

# ---------------------------------------------------------------- build
NODE_GYP="${npm_config_node_gyp:-}"
if [[ -z "$NODE_GYP" || ! -f "$NODE_GYP" ]]; then
  NPM_CLI="$(readlink -f "$(command -v npm)")"
  NODE_GYP="$(dirname "$NPM_CLI")/../node_modules/node-gyp/bin/node-gyp.js"
fi
[[ -f "$NODE_GYP" ]] || { say "cannot find npm's bundled node-gyp"; exit 2; }
NODEDIR="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
GYP_ARGS=()
if [[ -n "$NODEDIR" && "$NODEDIR" != "undefined" && "$NODEDIR" != "null" ]]; then GYP_ARGS+=(--nodedir="$NODEDIR"); fi

say "building the addon with -fsanitize=address,undefined in $DIR"
mkdir -p "$DIR/node_modules"
rm -rf "$DIR/native" "$LOGS"
mkdir -p "$LOGS"
cp "$ROOT/binding.gyp" "$DIR/"
cp -r "$ROOT/native" "$DIR/native"
ln -sfn "$ROOT/node_modules/node-addon-api" "$DIR/node_modules/node-addon-api"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
(
  cd "$DIR"
  CFLAGS="$SAN" CXXFLAGS="$SAN" LDFLAGS="-fsanitize=address,undefined" \
    node "$NODE_GYP" rebuild "${GYP_ARGS[@]}" >"$LOGS/build.log" 2>&1
) || { tail -30 "$LOGS/build.log"; say "build failed"; exit 2; }
ADDON="$DIR/build/Release/netfilter_collector.node"
LIBASAN="$(ldd "$ADDON" | awk '/libasan/ {print $3}')"
[[ -f "$LIBASAN" ]] || { say "the addon does not link libasan"; exit 2; }
say "addon: $ADDON (runtime $LIBASAN)"

say "building dist/ (npm run build:ts)"
(cd "$ROOT" && npm run --silent build:ts >"$LOGS/tsc.log" 2>&1) || say "warning: build:ts failed (see $LOGS/tsc.log); using the existing dist/"

# ---------------------------------------------------------------- self-check
# A library that leaks on load, loaded like the addon: LSan must report it.
say "self-check: LeakSanitizer sees a leak in a library node loads"
gcc -shared -fPIC -fsanitize=address -fno-omit-frame-pointer -g -O0 -o "$DIR/canary.so" "$ROOT/scripts/asan/canary.c"
mkdir -p "$LOGS/canary"
LD_PRELOAD="$LIBASAN" ASAN_OPTIONS="detect_leaks=1:log_path=$LOGS/canary/asan" \
  node -e "try { process.dlopen({ exports: {} }, process.argv[1]); } catch {}" "$DIR/canary.so" >/dev/null 2>&1 || true
if grep -qs "Direct leak of 4321 byte" "$LOGS"/canary/asan.*; then
  say "self-check: ok (the canary's leak was reported)"
else
  say "self-check FAILED: LeakSanitizer did not report the canary's leak; a clean run would prove nothing"
  exit 2
fi

# ---------------------------------------------------------------- run
say "running scripts/asan/drive.js $* under ASan + UBSan"
set +e
(
  cd "$ROOT"
  LD_PRELOAD="$LIBASAN" \
  ASAN_OPTIONS="detect_leaks=1:quarantine_size_mb=16:halt_on_error=0:detect_odr_violation=0:log_path=$LOGS/asan" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$LOGS/ubsan" \
  NFC_ADDON_PATH="$ADDON" \
    timeout 1200 node --expose-gc scripts/asan/drive.js "$@"
) 2>&1 | tee "$LOGS/drive.out"
STATUS=${PIPESTATUS[0]}
set -e
say "driver exit status $STATUS"

node "$ROOT/scripts/asan/verdict.js" "$LOGS" "$STATUS"
