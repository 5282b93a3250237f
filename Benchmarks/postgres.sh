#!/usr/bin/env bash
# The PostgreSQL store at scale (issue 12): `listwise import` of a county into a server against
# `psql \copy` of the same four files into the same tables (same columns and types, hash-
# partitioned by property_id, same primary keys; the events table of the baseline keeps amount
# and rate nullable as the file has them, with an index on the five columns instead of the key,
# since \copy cannot turn an empty field into listwise's -1); then `train` and `score` on the
# server against the same commands on an SQLite file of the same county. Time, peak memory
# (max RSS) of listwise, medians of RUNS runs.
#
# Usage: Benchmarks/postgres.sh [PROPERTIES] [RUNS] [ORDER] [STEPS]
#   ORDER: property (the generator's) or date (events sorted by date, as county feeds arrive).
#   STEPS: all (default) or import (the import against \copy alone).
# A throwaway server is started (.ci/postgres.sh) unless LISTWISE_BENCH_POSTGRES_URL names one
# (postgresql://user@host:port/any: databases bench_lw and bench_copy are created on it).
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
PROPERTIES=${1:-1000000}
RUNS=${2:-3}
ORDER=${3:-property}
STEPS=${4:-all}
WORK=Benchmarks/work
DATA=$WORK/county-$PROPERTIES
mkdir -p "$WORK"

swift build -c release >/dev/null
BIN=.build/release/listwise
[ -f "$DATA/events.csv" ] || "$BIN" sample --properties "$PROPERTIES" --seed 1 --out "$DATA"
if [ "$ORDER" = date ]; then
    SRC=$WORK/county-$PROPERTIES-by-date
    if [ ! -f "$SRC/events.csv" ]; then
        mkdir -p "$SRC"
        for f in properties owners prospects; do ln -sf "$(realpath "$DATA/$f.csv")" "$SRC/$f.csv"; done
        { head -1 "$DATA/events.csv"; tail -n +2 "$DATA/events.csv" | sort -t, -k3,3 -S 2G; } > "$SRC/events.csv"
    fi
    DATA=$SRC
fi

if [ -z "${LISTWISE_BENCH_POSTGRES_URL:-}" ]; then
    eval "$(bash .ci/postgres.sh start)"
    trap 'bash .ci/postgres.sh stop "$LISTWISE_TEST_POSTGRES_DIR"' EXIT
    LISTWISE_BENCH_POSTGRES_URL=$LISTWISE_TEST_POSTGRES_URL
fi
SERVER=${LISTWISE_BENCH_POSTGRES_URL%/*}
HOSTPORT=${SERVER#*@}; PGHOST_=${HOSTPORT%:*}; PGPORT_=${HOSTPORT#*:}; PGUSER_=${SERVER#postgresql://}; PGUSER_=${PGUSER_%%@*}
pg() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST_" -p "$PGPORT_" -U "$PGUSER_" "$@"; }
fresh() { pg -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"; }

partitioned() {  # NAME COLUMNS KEY
    echo "CREATE TABLE $1 ($2 $3) PARTITION BY HASH (property_id);"
    for p in 0 1 2 3 4 5 6 7; do echo "CREATE TABLE $1_p$p PARTITION OF $1 FOR VALUES WITH (MODULUS 8, REMAINDER $p);"; done
}
BASELINE="$(partitioned properties "property_id text NOT NULL, address text, city text, state text, zip text, latitude float8, longitude float8,
    property_type text, bedrooms float8, bathrooms float8, living_sqft bigint, lot_sqft bigint, year_built int, assessed_value bigint,
    owner_occupied boolean" ", PRIMARY KEY (property_id)")
  CREATE INDEX ON properties (zip); CREATE INDEX ON properties (city);
  $(partitioned owners "property_id text NOT NULL, owner_since date NOT NULL, owner_birth_year int, absentee boolean, corporate boolean" ", PRIMARY KEY (property_id, owner_since)")
  $(partitioned prospects "prospect_id text NOT NULL, property_id text NOT NULL, first_name text, last_name text, owner_birth_year int,
    mailing_address text, mailing_city text, mailing_state text, mailing_zip text, email text, phone text, do_not_mail boolean,
    do_not_email boolean, do_not_call boolean" ", PRIMARY KEY (property_id, prospect_id)")
  CREATE INDEX ON prospects (prospect_id);
  $(partitioned events "property_id text NOT NULL, event_type text NOT NULL, event_date date NOT NULL, amount bigint, rate float8" "")
  CREATE INDEX ON events (property_id, event_date, event_type, amount, rate);"

# The baseline: one psql session running the four \copy commands.
for f in properties owners prospects events; do
    echo "\\copy $f ($(head -1 "$DATA/$f.csv")) FROM '$DATA/$f.csv' CSV HEADER"
done > "$WORK/copy.sql"

rows=$(( $(cat "$DATA"/{properties,owners,prospects,events}.csv | wc -l) - 4 ))
echo "PostgreSQL store, $PROPERTIES properties ($rows rows, events in $ORDER order), median of $RUNS runs"
lw_t=(); lw_m=(); cp_t=()
for run in $(seq "$RUNS"); do
    fresh bench_lw
    read -r t m < <(time_one "$BIN" import "$DATA" --db "$SERVER/bench_lw")
    lw_t+=("$t"); lw_m+=("$m")
    fresh bench_copy
    pg -d bench_copy -c "$BASELINE" >/dev/null
    read -r t _ < <(time_one psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST_" -p "$PGPORT_" -U "$PGUSER_" -d bench_copy -f "$WORK/copy.sql")
    cp_t+=("$t")
    echo "  run $run: listwise import ${lw_t[-1]} s (${lw_m[-1]} KB), psql \\copy ${cp_t[-1]} s" >&2
done
lt=$(printf '%s\n' "${lw_t[@]}" | median); ct=$(printf '%s\n' "${cp_t[@]}" | median); lm=$(printf '%s\n' "${lw_m[@]}" | median)
awk -v r="$rows" -v lt="$lt" -v ct="$ct" -v lm="$lm" 'BEGIN {
    printf "import     listwise %7.1f s (%5.0f k rows/s, peak %4.0f MB)   psql \\copy %7.1f s (%5.0f k rows/s)   ratio %.2fx\n",
        lt, r/lt/1000, lm/1024, ct, r/ct/1000, lt/ct }'
[ "$STEPS" = import ] && exit 0

# Train and score: the server store just imported against an SQLite file of the same county.
SQLITE=$WORK/pg-bench-$PROPERTIES.db
[ -f "$SQLITE" ] || "$BIN" import "$DATA" --db "$SQLITE" >/dev/null 2>&1
for step in train score; do
    pg_t=(); pg_m=(); sq_t=(); sq_m=()
    for run in $(seq "$RUNS"); do
        for store in "$SERVER/bench_lw" "$SQLITE"; do
            if [ $step = train ]; then args=(train --out "$WORK/pg-bench-model.json"); else args=(score --model "$WORK/pg-bench-model.json" --as-of 2025-06-30); fi
            read -r t m < <(time_one "$BIN" "${args[@]}" --db "$store")
            if [ "$store" = "$SQLITE" ]; then sq_t+=("$t"); sq_m+=("$m"); else pg_t+=("$t"); pg_m+=("$m"); fi
        done
        echo "  run $run: $step on PostgreSQL ${pg_t[-1]} s (${pg_m[-1]} KB), on SQLite ${sq_t[-1]} s (${sq_m[-1]} KB)" >&2
    done
    awk -v s=$step -v pt="$(printf '%s\n' "${pg_t[@]}" | median)" -v pm="$(printf '%s\n' "${pg_m[@]}" | median)" \
        -v st="$(printf '%s\n' "${sq_t[@]}" | median)" -v sm="$(printf '%s\n' "${sq_m[@]}" | median)" 'BEGIN {
        printf "%-10s PostgreSQL %7.1f s (peak %4.0f MB)   SQLite %7.1f s (peak %4.0f MB)   ratio %.2fx\n", s, pt, pm/1024, st, sm/1024, pt/st }'
done
