#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster for the tests (no system service): a temporary data
# folder owned by postgres, a free port on loopback, trust authentication for the role
# `listwise`, TLS on (a self-signed certificate), and a database `listwise_test`. Prints the lines to eval:
#   eval "$(.ci/postgres.sh start)"   # sets LISTWISE_TEST_POSTGRES_URL and LISTWISE_TEST_POSTGRES_DIR
#   .ci/postgres.sh stop "$LISTWISE_TEST_POSTGRES_DIR"
set -euo pipefail
BIN=/usr/lib/postgresql/15/bin
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
case "${1:-}" in
start)
    DIR=$(mktemp -d /tmp/listwise-pg.XXXXXX)
    chown postgres "$DIR" 2>/dev/null || sudo chown postgres "$DIR"
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    as_postgres "$BIN/initdb" -D "$DIR/data" -A trust -U listwise >/dev/null
    # TLS with a self-signed certificate, for the tests of sslmode (prefer, require, verify-full).
    as_postgres openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
        -keyout "$DIR/data/server.key" -out "$DIR/data/server.crt" >/dev/null 2>&1
    as_postgres chmod 600 "$DIR/data/server.key"
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c ssl=on" -l "$DIR/log" -w start >/dev/null
    "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U listwise listwise_test
    # One role that needs a password, for the tests of a refused login.
    "$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U listwise -d listwise_test -c "CREATE ROLE listwise_secret LOGIN PASSWORD 'right'"
    as_postgres sed -i '1i host all listwise_secret 127.0.0.1/32 scram-sha-256' "$DIR/data/pg_hba.conf"
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" reload >/dev/null
    echo "export LISTWISE_TEST_POSTGRES_URL=postgresql://listwise@127.0.0.1:$PORT/listwise_test"
    echo "export LISTWISE_TEST_POSTGRES_DIR=$DIR"
    ;;
stop)
    DIR=${2:?the folder printed by start}
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
*)
    echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
