#!/usr/bin/env bash
# Runs every test of the project. Needs only the Rust toolchain and Python 3: whatever else a test needs
# (the Python client and pytest, in .venv; PostgreSQL, from Debian's packages), this script installs itself,
# starts, and stops again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
# A run builds from what is there: incremental caches would only double the workspace's share of target/.
export CARGO_INCREMENTAL=0

step "PostgreSQL for the shared-store tests (a throwaway server on a loopback port)"
PG_DIR=$(mktemp -d /tmp/registry-pg.XXXXXX)
trap './scripts/postgres.sh stop "$PG_DIR" >/dev/null 2>&1 || true; rm -rf "$PG_DIR"' EXIT
REGISTRY_TEST_POSTGRES=$(./scripts/postgres.sh start "$PG_DIR")
export REGISTRY_TEST_POSTGRES
echo "PostgreSQL at $REGISTRY_TEST_POSTGRES"

step "formatting"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "unit, data-driven, property, scenario, concurrency, persistence and router tests"
cargo test --workspace --locked

step "conformance with the reference registry's compatibility examples"
./scripts/conformance.sh

step "benches in test mode (each bench runs once; no timing is asserted)"
cargo test --locked --workspace --benches

step "the load generator's smoke run against a spawned server (no timing is asserted)"
build_binaries
./target/debug/registry-load smoke --spawn ./target/debug/schema-registry
# The server and the loader on a core each where there are two (the flag refuses a single CPU).
SPLIT=$([[ $(nproc) -ge 2 ]] && echo --split-cores || true)
./target/debug/registry-load hot $SPLIT --subjects 30 --duration 300ms -c 8 --spawn ./target/debug/schema-registry \
    --json-out target/registry-load-hot.json

step "the README's examples: each session, against a fresh server, answers what the README shows"
build_binaries
python3 scripts/readme-examples.py ./target/debug/schema-registry README.md

step "the real-client test: confluent-kafka's Python client against the server"
./scripts/client-test.sh

step "the migration tool: a server filled by the Python client copied into another and into a data directory"
./scripts/migrate-test.sh

step "the container image: the Dockerfile's and compose.yaml's facts, and the binary run as the image runs it"
setup_venv
build_binaries
"$PY" tests/container/check_image.py ./target/debug/schema-registry

step "the web console in headless Chromium: every view against a server filled with the three formats, and auth"
./scripts/console-test.sh

step "the shared-store test: three instances over one PostgreSQL (client test on each, storm, SIGKILL, outage)"
./scripts/cluster-test.sh

step "crash consistency: SIGKILL 20 times during a registration and deletion storm"
./scripts/crash-test.sh

step "a full disk: writes refused with a clear error, reads served, writes resumed once space is freed"
./scripts/disk-full-test.sh

step "soak: 60 s of mixed load; resident memory may grow at most 10% after the warm-up"
./scripts/soak-test.sh

step "memory: 16 concurrent maximum-size requests of each kind; peak RSS grows < 300 MiB and comes back within 50 MiB"
./scripts/memory-test.sh

step "fuzzing: each cargo-fuzz target briefly (parse, compat, the model-based registry target, http)"
./scripts/fuzz-all.sh 20

step "the embedded example runs"
build_binaries
./target/debug/examples/embedded >/dev/null

echo
echo "all tests passed"
