#!/usr/bin/env bash
# Runs 20 refreshes in a row on a 100,000-home database, each with a small new events file in
# the inbox (a day's worth of new events), and prints the median refresh time: import of the
# file, rescoring of every home, logs. No peer: the pandas pipeline has no refresh to compare.
#   Benchmarks/refresh.sh [PROPERTIES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
PROPERTIES=${1:-100000}
RUNS=${2:-20}
WORK=Benchmarks/work/refresh-$PROPERTIES
rm -rf "$WORK" && mkdir -p "$WORK/inbox" "$WORK/models"
swift build -c release >/dev/null
BIN=$PWD/.build/release/listwise
"$BIN" sample --properties "$PROPERTIES" --seed 3 --out "$WORK/county" 2>/dev/null
"$BIN" import "$WORK/county" --db "$WORK/county.db" 2>/dev/null
"$BIN" train --db "$WORK/county.db" --out "$WORK/models/model.json" 2>/dev/null
# The new files: 200 valuations each, of the first homes, dated after the data.
ids=$(head -201 "$WORK/county/properties.csv" | tail -200 | cut -d, -f1)
times=()
for run in $(seq "$RUNS"); do
    {
        echo "property_id,event_type,event_date,amount,rate"
        for id in $ids; do echo "$id,VALUATION,2026-01-$(printf %02d $((run % 28 + 1))),$((500000 + run * 1000)),"; done
    } > "$WORK/inbox/events-$run.csv"
    /usr/bin/time -o "$WORK/time.txt" -f "%e %M" "$BIN" refresh --db "$WORK/county.db" --inbox "$WORK/inbox" \
        --models "$WORK/models" --as-of 2026-01-31 --quiet
    read -r t m < "$WORK/time.txt"; times+=("$t")
    echo "  refresh $run: $t s (peak ${m} KB)" >&2
done
awk -v n="$PROPERTIES" -v runs="$RUNS" -v t="$(printf '%s\n' "${times[@]}" | median)" 'BEGIN {
    printf "refresh of a %d-home database with a 200-event file, %d runs: median %.2f s\n", n, runs, t }'
