#!/usr/bin/env bash
# The real-client test: runs Confluent's Python client (confluent-kafka's SchemaRegistryClient and its Avro,
# JSON Schema and Protobuf serializers) against a freshly built `schema-registry` on a free port with an empty
# data directory, then once more over TLS with auth on (a self-signed certificate the client trusts, an admin key
# sent as Basic auth). Creates `.venv` at the repository root on first use. Exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

setup_venv
build_server

DATA_DIR="$(mktemp -d)"
LOG="$DATA_DIR/server.log"
SERVER_PID=""
cleanup() {
    local status=$?
    [[ -n "$SERVER_PID" ]] && stop_server "$SERVER_PID"
    if [[ $status -ne 0 && -f "$LOG" ]]; then
        echo "--- last lines of the server log ---" >&2
        tail -n 40 "$LOG" >&2 || true
    fi
    rm -rf "$DATA_DIR"
    exit "$status"
}
trap cleanup EXIT

PORT="$(free_port)"
URL="http://127.0.0.1:$PORT"

step "start the server on $URL"
"$BIN" --listen "127.0.0.1:$PORT" --data-dir "$DATA_DIR/data" >"$LOG" 2>&1 &
SERVER_PID=$!
wait_healthy "$URL" "$SERVER_PID"
echo "server ready (pid $SERVER_PID)"

step "pytest tests/python"
SCHEMA_REGISTRY_URL="$URL" SCHEMA_REGISTRY_BIN="$BIN" run_pytest "$DATA_DIR/pytest.out" "$ROOT/tests/python"
stop_server "$SERVER_PID"
SERVER_PID=""

PORT="$(free_port)"
URL="https://localhost:$PORT"
KEY="client-test-admin-$RANDOM$RANDOM"
"$PY" "$ROOT/tests/tls_cert.py" "$DATA_DIR"
echo "admin $("$BIN" hash-key "$KEY") client-test" >"$DATA_DIR/keys"
step "start the server over TLS with auth on, on $URL"
"$BIN" --listen "127.0.0.1:$PORT" --data-dir "$DATA_DIR/data-tls" --auth-keys "$DATA_DIR/keys" \
    --tls-cert "$DATA_DIR/cert.pem" --tls-key "$DATA_DIR/key.pem" >"$LOG" 2>&1 &
SERVER_PID=$!
wait_healthy "$URL" "$SERVER_PID" "$DATA_DIR/ca.pem"
echo "server ready (pid $SERVER_PID)"

step "pytest tests/python over TLS, with an API key as Basic auth"
SCHEMA_REGISTRY_URL="$URL" SCHEMA_REGISTRY_CA="$DATA_DIR/ca.pem" SCHEMA_REGISTRY_BASIC_AUTH="ci:$KEY" SCHEMA_REGISTRY_BIN="$BIN" \
    run_pytest "$DATA_DIR/pytest-tls.out" "$ROOT/tests/python"
