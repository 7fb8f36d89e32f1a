#!/usr/bin/env bash
# Runs every test of the project. Needs only the Rust toolchain and Python 3: whatever else a test needs,
# this script installs itself.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "formatting"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "unit, property, scenario and integration tests"
cargo test --workspace --locked

step "the embedded example runs"
cargo run --locked -q -p registry-examples --example embedded >/dev/null

echo
echo "all tests passed"
