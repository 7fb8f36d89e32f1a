#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL server for the tests.
#
#   scripts/postgres.sh start DIR   installs PostgreSQL if needed, makes a fresh cluster in DIR,
#                                   starts it on 127.0.0.1 on a free port and prints one line on
#                                   stdout: postgres://registry:registry@127.0.0.1:PORT/registry
#                                   (also written to DIR/url)
#   scripts/postgres.sh stop DIR    stops the server started in DIR; succeeds if none is running.
#                                   DIR itself is left for the caller to remove.
#   scripts/postgres.sh resume DIR  starts the stopped server in DIR again, with its data, on the
#                                   same port (a database outage and its end, for the tests).
#
# DIR holds data/ (the cluster), initdb.log, server.log, the server's unix socket and url. The
# server runs as the `postgres` system user (PostgreSQL refuses to run as root), so DIR is chowned
# to it and that user must be able to reach DIR (a dir under /tmp is fine; one under /root is not).
# Everything but the URL goes to stderr; any failure exits non-zero with a message.
set -euo pipefail

FIRST_PORT=55432 # ports are tried from here upward until one binds
PORT_TRIES=100
TIMEOUT=30 # seconds to wait for the server to accept connections

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Runs a command as the postgres user (directly when we are not root, e.g. on a developer's box),
# from / so that a cwd that user cannot read (e.g. /root) draws no warnings. Paths are absolute.
as_pg() {
    if [[ $(id -u) == 0 ]]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi
}

# Sets BIN to the bin dir of the newest installed PostgreSQL server, or returns 1 if there is none.
find_bin() {
    local initdb
    initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1) || true
    [[ -n $initdb ]] || return 1
    BIN=$(dirname "$initdb")
}

# Installs Debian's postgresql package. It creates the `postgres` user and a default cluster
# ("main", port 5432) that may or may not be started; we never use that cluster.
install_postgres() {
    [[ $(id -u) == 0 ]] || die "PostgreSQL is not installed and installing it needs root"
    log "PostgreSQL is not installed: installing Debian's postgresql package"
    apt-get update -q >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql >&2 \
        || die "apt-get install postgresql failed"
    find_bin || die "postgresql was installed but no /usr/lib/postgresql/*/bin/initdb exists"
}

start() {
    local dir=$1 data=$1/data port url
    find_bin || install_postgres
    log "using $BIN"

    mkdir -p "$dir"
    if [[ $(id -u) == 0 ]]; then chown postgres:postgres "$dir"; fi
    as_pg test -w "$dir" || die "the postgres user cannot write to $dir (is a parent dir private?)"

    # A fresh cluster every time: refuse to clobber a running one, replace a stopped one.
    if [[ -f $data/postmaster.pid ]] && as_pg "$BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        die "a server is already running in $dir: run '$0 stop $dir' first"
    fi
    if [[ -e $data ]]; then
        [[ -f $data/PG_VERSION ]] || die "$data exists and is not a PostgreSQL cluster"
        rm -rf "$data"
    fi

    # --no-sync only skips initdb's final flush (the cluster is throwaway); the server fsyncs.
    if ! as_pg "$BIN/initdb" -D "$data" -U postgres --auth=trust --locale=C --encoding=UTF8 \
        --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb failed (its output is above)"
    fi
    # TCP only on loopback, the unix socket inside DIR (not /var/run/postgresql), sizes for a
    # small CI box. fsync stays on (the default). The port is given on the command line below.
    cat >>"$data/postgresql.conf" <<EOF

# added by scripts/postgres.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 128MB
EOF

    # Try ports upward, skipping those something listens on. A port taken between that check and
    # the bind (two starts at once) makes the server fail with "Address already in use": next.
    for ((port = FIRST_PORT; port < FIRST_PORT + PORT_TRIES; port++)); do
        if (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null; then continue; fi
        rm -f "$dir/server.log"
        if as_pg "$BIN/pg_ctl" -D "$data" -l "$dir/server.log" -o "-p $port" -w -t "$TIMEOUT" \
            start >&2; then
            break
        fi
        as_pg "$BIN/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
        if ! grep -q 'Address already in use' "$dir/server.log" 2>/dev/null; then
            cat "$dir/server.log" >&2 2>/dev/null || true
            die "the server did not start (its log is above)"
        fi
        log "port $port is taken, trying the next one"
    done
    ((port < FIRST_PORT + PORT_TRIES)) || die "no free port in $FIRST_PORT..$((port - 1))"

    if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t "$TIMEOUT"; then
        cat "$dir/server.log" >&2
        as_pg "$BIN/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
        die "the server does not accept connections on 127.0.0.1:$port (its log is above)"
    fi

    # The tests' role: it owns the `registry` database and may create one database per test.
    # Auth is trust (initdb --auth=trust covers loopback); the password is for URLs that carry one.
    as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
        >&2 <<'SQL' || die "creating the registry role and database failed"
CREATE ROLE registry LOGIN CREATEDB PASSWORD 'registry';
CREATE DATABASE registry OWNER registry;
SQL

    url="postgres://registry:registry@127.0.0.1:$port/registry"
    echo "$url" >"$dir/url"
    log "server running in $dir (log: $dir/server.log)"
    echo "$url"
}

stop() {
    local dir=$1 data=$1/data
    if [[ ! -f $data/postmaster.pid ]]; then
        log "no server running in $dir"
        return 0
    fi
    find_bin || die "$data/postmaster.pid exists but no PostgreSQL is installed"
    if ! as_pg "$BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "no server running in $dir (stale postmaster.pid)"
        return 0
    fi
    as_pg "$BIN/pg_ctl" -D "$data" -m fast -w -t "$TIMEOUT" stop >&2 || die "pg_ctl stop failed"
}

resume() {
    local dir=$1 data=$1/data port
    [[ -f $dir/url && -f $data/PG_VERSION ]] || die "no server was started in $dir"
    find_bin || die "$data exists but no PostgreSQL is installed"
    port=$(sed -E 's#.*:([0-9]+)/.*#\1#' "$dir/url")
    as_pg "$BIN/pg_ctl" -D "$data" -l "$dir/server.log" -o "-p $port" -w -t "$TIMEOUT" start >&2 \
        || die "the server in $dir did not start again (its log: $dir/server.log)"
}

usage() { die "usage: $0 start|stop|resume DIR"; }
[[ $# == 2 && -n $2 ]] || usage
dir=$(realpath -m -- "$2") # absolute: the socket dir in postgresql.conf must not depend on cwd
case $1 in
    start) start "$dir" ;;
    stop) stop "$dir" ;;
    resume) resume "$dir" ;;
    *) usage ;;
esac
