#!/usr/bin/env bash
# Crash consistency: SIGKILL of the real binary at random moments of a registration and deletion storm, then a
# check that every acknowledged write is there (tests/crash). `--kills N` sets the rounds (default 20; the long
# run is `--kills 500`). Exits non-zero when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

KILLS=20
if [[ ${1:-} == --kills ]]; then
    KILLS=${2:?--kills needs a number}
fi

setup_venv
build_server
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
step "SIGKILL $KILLS times during a storm (tests/crash)"
REGISTRY_BIN="$BIN" REGISTRY_KILLS="$KILLS" run_pytest "$WORK/crash.out" -s "$ROOT/tests/crash"
