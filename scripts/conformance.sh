#!/usr/bin/env bash
# Replays the reference registry's own compatibility examples (../shared/conformance) through our engine and
# prints the agreement per file. The data is read in place, never copied into the project.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d ../shared/conformance ]; then
  echo "conformance: ../shared/conformance not found; skipping the conformance run"
  exit 0
fi
out=$(cargo test --locked -q -p registry-core --test conformance -- --nocapture 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -E '^(json|protobuf): [0-9]+/[0-9]+ agree' || { echo "$out"; echo "conformance: no agreement lines printed"; exit 1; }
