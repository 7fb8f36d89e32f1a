# Shared by the test scripts (sourced, not run): the Python environment, free ports, and servers that are
# started, waited for and stopped. Expects to be sourced from the repository root.

ROOT="$(pwd)"
CLIENT_VERSION="2.16.0"
# The official MCP Python SDK, the MCP tools' real client.
MCP_VERSION="1.30.0"
# Selenium's Python bindings: the console's end-to-end tests drive Debian's chromium through chromedriver.
SELENIUM_VERSION="4.51.0"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
HEALTH_TIMEOUT_SECS="${HEALTH_TIMEOUT_SECS:-30}"

step() { printf '\n==> %s\n' "$*"; }

# Creates .venv on first use and installs the pinned clients (confluent-kafka with its rule executors, the MCP SDK)
# and pytest unless they are already there.
setup_venv() {
    step "python environment ($VENV)"
    if [[ ! -x "$PY" ]]; then
        python3 -m venv "$VENV"
    fi
    if "$PY" - "$CLIENT_VERSION" "$MCP_VERSION" "$SELENIUM_VERSION" <<'PYEOF' 2>/dev/null; then
import sys
from importlib.metadata import version
assert version("confluent-kafka") == sys.argv[1]
assert version("mcp") == sys.argv[2]
assert version("selenium") == sys.argv[3]
import mcp.client.streamable_http, mcp.client.stdio  # noqa: F401
import pytest, fastavro, jsonschema, google.protobuf, confluent_kafka.schema_registry, cryptography  # noqa: F401
import celpy, jsonata  # noqa: F401  (the rules extra: CEL and JSONata executors)
import yaml  # noqa: F401  (tests/container reads compose.yaml)
PYEOF
        echo "confluent-kafka $CLIENT_VERSION, mcp $MCP_VERSION, selenium $SELENIUM_VERSION and pytest already installed"
    else
        "$PY" -m pip install --quiet --disable-pip-version-check \
            "confluent-kafka[schemaregistry,avro,json,protobuf,rules]==$CLIENT_VERSION" "mcp==$MCP_VERSION" "selenium==$SELENIUM_VERSION" pytest cryptography pyyaml
    fi
}

# Installs Debian's chromium and chromium-driver when either is missing (the console's end-to-end tests).
ensure_chromium() {
    if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
        return
    fi
    step "install chromium and chromium-driver (Debian's packages)"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -q || { echo "apt-get update failed" >&2; return 1; }
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium chromium-driver \
        || { echo "apt-get install chromium chromium-driver failed" >&2; return 1; }
}

# Builds the workspace's binaries (debug), the server and the load generator, with the features `cargo test
# --workspace` resolves: every cargo command of the test scripts shares that one set, so each crate is compiled
# once per run and target/ holds one copy of it (a `-p` build resolves other features and compiles it all again).
build_binaries() {
    cargo build --locked -q --workspace --bins --examples
}

# Builds the server (debug) and names it in BIN.
build_server() {
    step "build the server"
    build_binaries
    BIN="$ROOT/target/debug/schema-registry"
}

# A TCP port nothing listens on now.
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_healthy URL PID [CA_FILE]: waits until GET URL/health answers 200 (over TLS trusting CA_FILE, if given);
# fails if PID exits or the time runs out.
wait_healthy() {
    local url=$1 pid=$2 ca=${3:-} deadline=$((SECONDS + HEALTH_TIMEOUT_SECS))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "the server (pid $pid) exited before answering /health" >&2
            return 1
        fi
        if "$PY" - "$url/health" "$ca" <<'PYEOF' 2>/dev/null; then
import ssl, sys, urllib.request
context = ssl.create_default_context(cafile=sys.argv[2]) if sys.argv[2] else None
with urllib.request.urlopen(sys.argv[1], timeout=1, context=context) as r:
    sys.exit(0 if r.status == 200 else 1)
PYEOF
            return 0
        fi
        sleep 0.2
    done
    echo "the server at $url did not answer GET /health within ${HEALTH_TIMEOUT_SECS}s" >&2
    return 1
}

# stop_server PID: SIGTERM, then SIGKILL after five seconds.
stop_server() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    { wait "$pid"; } 2>/dev/null || true
}

# run_pytest OUT ARGS...: pytest with ARGS, its output also in OUT; prints a summary line; returns its status.
run_pytest() {
    local out=$1 rc
    shift
    set +e
    "$PY" -m pytest -q -p no:cacheprovider "$@" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    set -e
    echo
    echo "summary: $(grep -E '^(=+ )?[0-9]+ (passed|failed|error)|(passed|failed|error).* in [0-9.]+s' "$out" | tail -n 1)"
    return "$rc"
}
