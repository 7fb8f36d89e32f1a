#!/usr/bin/env bash
# The memory bound (tests/memory): 16 concurrent maximum-size requests of every kind against the real binary; peak
# VmRSS must grow by less than 300 MiB and come back to within 50 MiB of its level before each burst. Runs the
# debug build by default; `scripts/memory-test.sh path/to/schema-registry` (or REGISTRY_BIN=...) runs another, e.g.
# target/release/schema-registry, which it does not build. Exits non-zero when a bound or an answer fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

setup_venv
BIN="${1:-${REGISTRY_BIN:-}}"
if [[ -z $BIN ]]; then
    step "build the server"
    build_binaries
    BIN="$ROOT/target/debug/schema-registry"
fi
[[ -x $BIN ]] || { echo "no server binary at $BIN" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
step "16 concurrent maximum-size requests of each kind against $BIN (tests/memory)"
REGISTRY_BIN="$BIN" run_pytest "$WORK/memory.out" -s "$ROOT/tests/memory"
