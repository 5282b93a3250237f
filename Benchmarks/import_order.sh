#!/usr/bin/env bash
# Times `listwise import` of the same county written in three orders (`listwise sample --order
# property|date|shuffled`): owners, prospects and events into a database that holds the
# properties. County and MLS feeds arrive ordered by date; the goal (issue 15) is an import whose
# time does not depend on the order (within 1.2x). Prints the median of RUNS runs, peak memory
# (max RSS) and, per file, the slowest order's time over the fastest's.
#   Benchmarks/import_order.sh [PROPERTIES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
PROPERTIES=${1:-1000000}
RUNS=${2:-3}
WORK=Benchmarks/work
mkdir -p "$WORK"

swift build -c release >/dev/null
BIN=.build/release/listwise
for order in property date shuffled; do
    data=$WORK/county-$PROPERTIES-$order
    [ -f "$data/events.csv" ] || "$BIN" sample --properties "$PROPERTIES" --seed 1 --order "$order" --out "$data" 2>/dev/null
done

echo "listwise import by input order, $PROPERTIES properties, median of $RUNS runs"
for kind in owners prospects events; do
    line="$kind"
    medians=()
    for order in property date shuffled; do
        data=$WORK/county-$PROPERTIES-$order
        ts=(); ms=()
        for run in $(seq "$RUNS"); do
            rm -f "$WORK"/order.db*
            "$BIN" import properties "$data/properties.csv" --db "$WORK/order.db" 2>/dev/null
            read -r t m < <(time_one "$BIN" import "$kind" "$data/$kind.csv" --db "$WORK/order.db")
            ts+=("$t"); ms+=("$m")
            echo "  $kind $order run $run: $t s, peak $((m / 1024)) MB" >&2
        done
        t=$(printf '%s\n' "${ts[@]}" | median); m=$(printf '%s\n' "${ms[@]}" | median)
        medians+=("$t")
        rows=$(( $(wc -l < "$data/$kind.csv") - 1 ))
        line+=$(awk -v o="$order" -v t="$t" -v m="$m" -v r="$rows" 'BEGIN { printf "  %s %6.1f s (%4.0f k rows/s, %3.0f MB)", o, t, r / t / 1000, m / 1024 }')
    done
    spread=$(printf '%s\n' "${medians[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f", hi / lo }')
    echo "$line  slowest/fastest ${spread}x"
done
