#!/usr/bin/env bash
# The migration test: `schema-registry migrate` between two servers it starts (the source over TLS with auth, filled
# by Confluent's Python client with all three formats and references), and into a data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

setup_venv
build_server
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT
step "pytest tests/migrate"
SCHEMA_REGISTRY_BIN="$BIN" run_pytest "$OUT" "$ROOT/tests/migrate"
