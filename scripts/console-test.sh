#!/usr/bin/env bash
# The web console's end-to-end test: Debian's headless chromium, driven by selenium through chromedriver, opens
# each view of /ui against servers it starts (one filled with all three formats, one with auth on) and checks what
# a person would see. Screenshots of each view land in target/console-screenshots/ (or $CONSOLE_SCREENSHOTS).
# SCHEMA_REGISTRY_BIN set in the environment skips the build and tests that binary.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

setup_venv
ensure_chromium
if [[ -n "${SCHEMA_REGISTRY_BIN:-}" ]]; then
    BIN="$SCHEMA_REGISTRY_BIN"
else
    build_server
fi
export SCHEMA_REGISTRY_BIN="$BIN"
export CONSOLE_SCREENSHOTS="${CONSOLE_SCREENSHOTS:-$ROOT/target/console-screenshots}"
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT
step "pytest tests/console (screenshots in $CONSOLE_SCREENSHOTS)"
run_pytest "$OUT" "$ROOT/tests/console"
