#!/usr/bin/env bash
# The real-client test: runs Confluent's Python client (confluent-kafka's SchemaRegistryClient and its Avro,
# JSON Schema and Protobuf serializers) against a freshly built `schema-registry` on a free port with an empty
# data directory. Creates `.venv` at the repository root on first use. Exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

CLIENT_VERSION="2.16.0"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
HEALTH_TIMEOUT_SECS="${HEALTH_TIMEOUT_SECS:-30}"

step() { printf '\n==> %s\n' "$*"; }

step "python environment ($VENV)"
if [[ ! -x "$PY" ]]; then
    python3 -m venv "$VENV"
fi
# Skip pip when the pinned client and pytest are already there.
if "$PY" - "$CLIENT_VERSION" <<'EOF' 2>/dev/null; then
import sys
from importlib.metadata import version
assert version("confluent-kafka") == sys.argv[1]
import pytest, fastavro, jsonschema, google.protobuf, confluent_kafka.schema_registry  # noqa: F401
EOF
    echo "confluent-kafka $CLIENT_VERSION and pytest already installed"
else
    "$PY" -m pip install --quiet --disable-pip-version-check \
        "confluent-kafka[schemaregistry,avro,json,protobuf]==$CLIENT_VERSION" pytest
fi

step "build the server"
cargo build --locked -p registry-http
BIN="$ROOT/target/debug/schema-registry"

DATA_DIR="$(mktemp -d)"
LOG="$DATA_DIR/server.log"
SERVER_PID=""
cleanup() {
    local status=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $status -ne 0 && -f "$LOG" ]]; then
        echo "--- last lines of the server log ---" >&2
        tail -n 40 "$LOG" >&2 || true
    fi
    rm -rf "$DATA_DIR"
    exit "$status"
}
trap cleanup EXIT

PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
URL="http://127.0.0.1:$PORT"

step "start the server on $URL"
"$BIN" --listen "127.0.0.1:$PORT" --data-dir "$DATA_DIR/data" >"$LOG" 2>&1 &
SERVER_PID=$!

ready=""
deadline=$((SECONDS + HEALTH_TIMEOUT_SECS))
while ((SECONDS < deadline)); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "the server exited before answering /health" >&2
        exit 1
    fi
    if "$PY" - "$URL/health" <<'EOF' 2>/dev/null; then
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
        ready=1
        break
    fi
    sleep 0.2
done
if [[ -z "$ready" ]]; then
    echo "the server did not answer GET /health within ${HEALTH_TIMEOUT_SECS}s" >&2
    exit 1
fi
echo "server ready (pid $SERVER_PID)"

step "pytest tests/python"
set +e
SCHEMA_REGISTRY_URL="$URL" "$PY" -m pytest -q -p no:cacheprovider "$ROOT/tests/python" 2>&1 | tee "$DATA_DIR/pytest.out"
rc=${PIPESTATUS[0]}
set -e
echo
echo "client test summary: $(grep -E '^(=+ )?[0-9]+ (passed|failed|error)|(passed|failed|error).* in [0-9.]+s' "$DATA_DIR/pytest.out" | tail -n 1)"
exit "$rc"
