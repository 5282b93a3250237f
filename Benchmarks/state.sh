#!/usr/bin/env bash
# A whole state on one laptop (issue 15): for each size (default 1,000,000 then 10,000,000 homes)
# generates a county whose events are ordered by date (as a recorder's feed is), then times
#   import (all four files into a new database), train (2 snapshots + out-of-time validation),
#   score (every home), export (the top 100,000 to a mail list)
# with the peak memory (max RSS) of each step and the disk used (database, CSVs), and prints one
# table with each step's growth from the first size to the last (10x the homes: linear = 10x).
# One run per size (10M takes about half an hour); the machine is shared: rerun to compare.
#   Benchmarks/state.sh [PROPERTIES...]
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000000 10000000)
WORK=Benchmarks/work
mkdir -p "$WORK"
swift build -c release >/dev/null
BIN=.build/release/listwise
RESULTS=$WORK/state-results.txt
: > "$RESULTS"

for n in "${SIZES[@]}"; do
    data=$WORK/county-$n-date
    db=$WORK/state-$n.db
    if [ ! -f "$data/events.csv" ]; then
        echo "generating $n homes (events ordered by date)..." >&2
        "$BIN" sample --properties "$n" --seed 1 --order date --out "$data" 2>/dev/null
    fi
    rm -f "$db" "$db-wal" "$db-shm" "$WORK/state-$n-model.json"
    echo "$n homes:" >&2
    read -r t m < <(time_one "$BIN" import "$data" --db "$db")
    echo "  import $t s, peak $((m / 1024)) MB" >&2; echo "$n import $t $m" >> "$RESULTS"
    read -r t m < <(time_one "$BIN" train --db "$db" --out "$WORK/state-$n-model.json")
    echo "  train $t s, peak $((m / 1024)) MB" >&2; echo "$n train $t $m" >> "$RESULTS"
    as_of=$(python3 -c "import json; print(json.load(open('$WORK/state-$n-model.json'))['validation_as_of'])")
    read -r t m < <(time_one "$BIN" score --db "$db" --model "$WORK/state-$n-model.json" --as-of "$as_of")
    echo "  score $t s, peak $((m / 1024)) MB" >&2; echo "$n score $t $m" >> "$RESULTS"
    run=$(sqlite3 "$db" "SELECT max(id) FROM score_runs WHERE territory IS NULL")
    read -r t m < <(time_one "$BIN" export --db "$db" --run "$run" --channel mail --campaign state-benchmark --top 100000 --out "$WORK/state-$n-mail.csv")
    echo "  export $t s, peak $((m / 1024)) MB" >&2; echo "$n export $t $m" >> "$RESULTS"
    sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    echo "$n disk $(du -sk "$db" | cut -f1) $(du -sk "$data" | cut -f1)" >> "$RESULTS"
    echo "$n auc $(python3 -c "import json; print(json.load(open('$WORK/state-$n-model.json'))['metrics']['roc_auc'])") 0" >> "$RESULTS"
done

python3 - "$RESULTS" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
sizes = sorted({int(r[0]) for r in rows})
get = {(int(r[0]), r[1]): (float(r[2]), float(r[3])) for r in rows}
head = "step      " + "".join(f"{n:>24,}" for n in sizes) + ("   growth" if len(sizes) > 1 else "")
print(f"listwise on a whole county, events ordered by date (time, peak memory)")
print(head)
total = {n: 0.0 for n in sizes}
for step in ["import", "train", "score", "export"]:
    line = f"{step:<10}"
    for n in sizes:
        t, kb = get[(n, step)]
        total[n] += t
        line += f"{t:>12.1f} s {kb / 1024:>7.0f} MB"
    if len(sizes) > 1:
        line += f"   {get[(sizes[-1], step)][0] / get[(sizes[0], step)][0]:.1f}x"
    print(line)
line = f"{'total':<10}" + "".join(f"{total[n] / 60:>12.1f} min{'':>8}" for n in sizes)
if len(sizes) > 1:
    line += f"   {total[sizes[-1]] / total[sizes[0]]:.1f}x"
print(line)
print(f"{'peak':<10}" + "".join(f"{max(get[(n, s)][1] for s in ['import', 'train', 'score', 'export']) / 1024:>22.0f} MB" for n in sizes))
print(f"{'disk':<10}" + "".join(f"{get[(n, 'disk')][0] / 1048576:>9.1f} GB db {get[(n, 'disk')][1] / 1048576:>5.1f} GB csv" for n in sizes))
print(f"{'AUC':<10}" + "".join(f"{get[(n, 'auc')][0]:>24.4f}" for n in sizes))
PY
