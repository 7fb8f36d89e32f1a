#!/usr/bin/env bash
# Soak: the load generator's `soak` mix (reads, validations, repeated and new registrations, open loop) against
# the server for a while; fails if the server's resident memory grows more than 10% after the warm-up. The
# server runs with small caches (8 MiB, 2,000 entries) so that they are full within the warm-up and what grows
# after it is what a leak would be, not a cache filling.
#
#   scripts/soak-test.sh                                  # 60 s at 500 req/s, debug build (scripts/test.sh)
#   scripts/soak-test.sh --release --duration 2h --rate 2000 --warmup 5m    # the long run (docs/reliability.md)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

PROFILE=debug
DURATION=60s
RATE=500
WARMUP=20s
while [[ $# -gt 0 ]]; do
    case $1 in
        --release) PROFILE=release ;;
        --duration) DURATION=$2; shift ;;
        --rate) RATE=$2; shift ;;
        --warmup) WARMUP=$2; shift ;;
        *) echo "unknown option $1 (--release, --duration D, --rate R, --warmup D)" >&2; exit 2 ;;
    esac
    shift
done

step "build the server and the load generator ($PROFILE)"
if [[ $PROFILE == release ]]; then
    cargo build --locked --release -p registry-http -p registry-load --bin schema-registry --bin registry-load
else
    build_binaries
fi
WORK="$(mktemp -d)"
# Copies: a build during a long run must not meet a running binary.
cp "$ROOT/target/$PROFILE/schema-registry" "$ROOT/target/$PROFILE/registry-load" "$WORK/"
BIN="$WORK/schema-registry"
LOAD="$WORK/registry-load"
SERVER_PID=""
cleanup() {
    local status=$?
    [[ -n "$SERVER_PID" ]] && stop_server "$SERVER_PID"
    if [[ $status -ne 0 && -f "$WORK/server.log" ]]; then
        echo "--- last lines of the server log ---" >&2
        tail -n 20 "$WORK/server.log" >&2 || true
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$BIN" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --cache-mib 8 --cache-capacity 2000 \
    >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PY=python3 wait_healthy "http://127.0.0.1:$PORT" "$SERVER_PID"

step "soak for $DURATION at $RATE req/s; memory may grow at most 10% after a $WARMUP warm-up"
"$LOAD" soak --url "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID" --duration "$DURATION" --rate "$RATE" \
    --warmup "$WARMUP" --max-rss-growth 10 --subjects 300 --max-requests 1000000000 --json-out "${SOAK_JSON:-$ROOT/target/soak.json}"
