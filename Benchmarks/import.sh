#!/usr/bin/env bash
# Times `listwise import` against the sqlite3 shell's `.import` of the same CSV into an
# equivalent table (same columns, same primary key and indexes, same WAL/synchronous/cache
# settings), for properties (1M rows) and events (~16M rows). Prints the median of RUNS runs,
# the ratio, and peak memory (max RSS). Usage: Benchmarks/import.sh [PROPERTIES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
PROPERTIES=${1:-1000000}
RUNS=${2:-3}
WORK=Benchmarks/work
DATA=$WORK/county-$PROPERTIES
mkdir -p "$WORK"

swift build -c release >/dev/null
BIN=.build/release/listwise
[ -f "$DATA/events.csv" ] || "$BIN" sample --properties "$PROPERTIES" --seed 1 --out "$DATA"

PRAGMAS="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
PROPERTIES_TABLE="CREATE TABLE properties (property_id TEXT PRIMARY KEY NOT NULL, address TEXT, city TEXT, state TEXT,
  zip TEXT, latitude REAL, longitude REAL, property_type TEXT, bedrooms REAL, bathrooms REAL, living_sqft INTEGER,
  lot_sqft INTEGER, year_built INTEGER, assessed_value INTEGER, owner_occupied TEXT) WITHOUT ROWID;
  CREATE INDEX properties_by_zip ON properties(zip); CREATE INDEX properties_by_city ON properties(city);"
EVENTS_TABLE="CREATE TABLE events (property_id TEXT NOT NULL, event_type TEXT NOT NULL, event_date TEXT NOT NULL,
  amount INTEGER NOT NULL, rate REAL NOT NULL, PRIMARY KEY (property_id, event_date, event_type, amount, rate)) WITHOUT ROWID;"

bench() {  # KIND ROWS_FILE
    local kind=$1 csv=$2 rows
    rows=$(( $(wc -l < "$csv") - 1 ))
    local lw_t=() lw_m=() sq_t=() sq_m=()
    for run in $(seq "$RUNS"); do
        # listwise: a fresh database that already holds the properties the events refer to.
        rm -f "$WORK"/lw.db*
        if [ "$kind" = events ]; then "$BIN" import properties "$DATA/properties.csv" --db "$WORK/lw.db" 2>/dev/null; fi
        read -r t m < <(time_one "$BIN" import "$kind" "$csv" --db "$WORK/lw.db")
        lw_t+=("$t"); lw_m+=("$m")
        rm -f "$WORK"/sq.db*
        local table=$PROPERTIES_TABLE; [ "$kind" = events ] && table=$EVENTS_TABLE
        sqlite3 "$WORK/sq.db" "$PRAGMAS $table" >/dev/null
        read -r t m < <(time_one sqlite3 "$WORK/sq.db" -cmd "$PRAGMAS" ".import --csv --skip 1 $csv $kind")
        sq_t+=("$t"); sq_m+=("$m")
        echo "  run $run: listwise ${lw_t[-1]} s (${lw_m[-1]} KB), sqlite3 .import ${sq_t[-1]} s (${sq_m[-1]} KB)" >&2
    done
    local lt st lm sm
    lt=$(printf '%s\n' "${lw_t[@]}" | median); st=$(printf '%s\n' "${sq_t[@]}" | median)
    lm=$(printf '%s\n' "${lw_m[@]}" | median); sm=$(printf '%s\n' "${sq_m[@]}" | median)
    awk -v k="$kind" -v r="$rows" -v lt="$lt" -v st="$st" -v lm="$lm" -v sm="$sm" 'BEGIN {
        printf "%-10s %10d rows  listwise %7.1f s (%6.0f k rows/s, peak %4.0f MB)  sqlite3 .import %7.1f s (%6.0f k rows/s, peak %4.0f MB)  ratio %.2fx\n",
            k, r, lt, r/lt/1000, lm/1024, st, r/st/1000, sm/1024, lt/st }'
}

echo "listwise import vs sqlite3 .import, $PROPERTIES properties, median of $RUNS runs (ratio = listwise time / sqlite3 time)"
bench properties "$DATA/properties.csv"
bench events "$DATA/events.csv"
