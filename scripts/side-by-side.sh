#!/usr/bin/env bash
# Measures this registry and another Confluent-compatible registry side by side with registry-load, one server at a
# time on the same machine, each started fresh (an empty data directory, RUST_LOG=warn):
#   - `hot` (one request repeated per operation, each as a ratio to the server's own `GET /`), two rounds, alternating;
#   - the memory after loading 20,000 subjects x 5 versions, and after 10 s of `baseline` traffic.
#
# Usage: scripts/side-by-side.sh PEER_BINARY [OUT_DIR]
#   PEER_BINARY  the other registry's server; it must take `--listen HOST:PORT` and `--data-dir DIR`, as this one does.
#   OUT_DIR      where the JSON reports and the logs go (default: target/side-by-side).
# Builds this registry's release binaries first. docs/benchmarks.md ("Side by side") has the method and the figures.
set -euo pipefail

peer=${1:?usage: scripts/side-by-side.sh PEER_BINARY [OUT_DIR]}
out=${2:-target/side-by-side}
cd "$(dirname "$0")/.."
mkdir -p "$out"
cargo build --release -q -p registry-http -p registry-load --bin schema-registry --bin registry-load
ours=target/release/schema-registry
load=target/release/registry-load

# start NAME BINARY PORT: a fresh server in the background; its pid in $pid, its data directory in $data.
start() {
    data=$(mktemp -d "/tmp/side-by-side-$1.XXXXXX")
    RUST_LOG=warn "$2" --listen "127.0.0.1:$3" --data-dir "$data" >"$out/$1-server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 50); do
        curl -sf "http://127.0.0.1:$3/subjects" >/dev/null && return 0
        sleep 0.2
    done
    echo "$1 did not start: see $out/$1-server.log" >&2
    exit 1
}

stop() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$data"
}

for round in 1 2; do
    for side in ours peer; do
        binary=$ours port=18510
        [ "$side" = peer ] && binary=$peer port=18511
        start "$side" "$binary" "$port"
        "$load" hot --only get-by-id,get-latest,register-existing,register-new -c 64 --duration 10s \
            --url "http://127.0.0.1:$port" --server-pid "$pid" --json-out "$out/hot-$side-$round.json" \
            >"$out/hot-$side-$round.txt" 2>&1
        stop
    done
done
for side in ours peer; do
    binary=$ours port=18510
    [ "$side" = peer ] && binary=$peer port=18511
    start "$side" "$binary" "$port"
    "$load" baseline --subjects 20000 --versions 5 --duration 10s \
        --url "http://127.0.0.1:$port" --server-pid "$pid" --json-out "$out/memory-$side.json" \
        >"$out/memory-$side.txt" 2>&1
    stop
done
grep -h "server rss: start" "$out"/memory-*.txt
echo "reports in $out"
