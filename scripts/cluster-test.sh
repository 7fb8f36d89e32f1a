#!/usr/bin/env bash
# The shared-store test: three `schema-registry` instances over one PostgreSQL that this script starts (and may
# stop and start again, for the outage test). Confluent's Python client test runs against each instance, then
# tests/cluster drives them together: a storm of concurrent registrations, changes seen across instances, a
# SIGKILL during a storm, and a database outage. Exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

setup_venv
build_server

WORK="$(mktemp -d /tmp/registry-cluster.XXXXXX)"
PG_DIR="$(mktemp -d /tmp/registry-pg.XXXXXX)" # its own: postgres.sh hands it to the postgres user
PIDS=()
URLS=()
cleanup() {
    local status=$?
    for pid in "${PIDS[@]}"; do stop_server "$pid"; done
    ./scripts/postgres.sh stop "$PG_DIR" >/dev/null 2>&1 || true
    if [[ $status -ne 0 ]]; then
        for log in "$WORK"/server*.log; do
            [[ -f $log ]] || continue
            echo "--- last lines of $log ---" >&2
            tail -n 30 "$log" >&2 || true
        done
    fi
    rm -rf "$WORK" "$PG_DIR"
    exit "$status"
}
trap cleanup EXIT

step "PostgreSQL for the instances"
DB_URL="$(./scripts/postgres.sh start "$PG_DIR")"
# The password goes in the environment, never on the command line; the test checks no log shows it.
PASSWORD="cluster-test-secret"
STORE="${DB_URL/registry:registry@/registry@}"

for i in 1 2 3; do
    port="$(free_port)"
    SCHEMA_REGISTRY_STORE_PASSWORD="$PASSWORD" "$BIN" --listen "127.0.0.1:$port" --store "$STORE" \
        >"$WORK/server$i.log" 2>&1 &
    PIDS+=($!)
    URLS+=("http://127.0.0.1:$port")
done
for i in 0 1 2; do
    wait_healthy "${URLS[$i]}" "${PIDS[$i]}"
done
echo "instances ready: ${URLS[*]}"

for url in "${URLS[@]}"; do
    step "the confluent-kafka client test against $url"
    SCHEMA_REGISTRY_URL="$url" SCHEMA_REGISTRY_BIN="$BIN" run_pytest "$WORK/client.out" "$ROOT/tests/python"
done

step "the instances together (tests/cluster)"
REGISTRY_URLS="${URLS[*]}" REGISTRY_PIDS="${PIDS[*]}" REGISTRY_PG_DIR="$PG_DIR" \
    REGISTRY_LOGS="$(ls "$WORK"/server*.log | tr '\n' ' ')" REGISTRY_SECRET="$PASSWORD" \
    REGISTRY_BIN="$BIN" REGISTRY_STORE="$STORE" REGISTRY_WORK="$WORK" \
    run_pytest "$WORK/cluster.out" -s "$ROOT/tests/cluster"
