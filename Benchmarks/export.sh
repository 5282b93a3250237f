#!/usr/bin/env bash
# Times `listwise export` of the top 100,000 of 1,000,000 scored homes to a mail list (issue
# target: under 2 s) against the peer (Benchmarks/peer_export.py: the same list with pandas) in
# one run, and prints medians and the ratio. Uses the database and model of Benchmarks/score.sh
# (made here when missing) and its latest county-wide score run.
#   Benchmarks/export.sh [PROPERTIES] [TOP] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
PROPERTIES=${1:-1000000}
TOP=${2:-100000}
RUNS=${3:-5}
WORK=Benchmarks/work
DB=$WORK/train-$PROPERTIES.db
python3 -c "import pandas" 2>/dev/null || pip install -q pandas
swift build -c release >/dev/null
BIN=.build/release/listwise
if [ ! -f "$DB" ] || [ -z "$(sqlite3 "$DB" "SELECT id FROM score_runs WHERE territory IS NULL LIMIT 1" 2>/dev/null)" ]; then
    bash Benchmarks/score.sh "$PROPERTIES" 1 >/dev/null
fi
RUN=$(sqlite3 "$DB" "SELECT max(id) FROM score_runs WHERE territory IS NULL")

lw=(); peer=()
for run in $(seq "$RUNS"); do
    /usr/bin/time -o "$WORK/export-time.txt" -f "%e %M" "$BIN" export --db "$DB" --run "$RUN" --channel mail \
        --campaign "benchmark-$run" --top "$TOP" --out "$WORK/export-mail.csv" 2>/dev/null
    read -r t m < "$WORK/export-time.txt"; lw+=("$t")
    pt=$(python3 Benchmarks/peer_export.py "$DB" "$RUN" "$TOP" "$WORK/peer-mail.csv" | python3 -c "import json,sys; print(json.load(sys.stdin)['seconds'])")
    peer+=("$pt")
    echo "  run $run: listwise $t s (peak ${m} KB, $(($(wc -l < "$WORK/export-mail.csv") - 1)) rows); peer $pt s" >&2
done
# The benchmark's campaigns are removed again so that the database stays as score.sh left it.
sqlite3 "$DB" "DELETE FROM contact_history WHERE export_id IN (SELECT id FROM exports WHERE campaign LIKE 'benchmark-%');
               DELETE FROM exports WHERE campaign LIKE 'benchmark-%'; DELETE FROM campaigns WHERE name LIKE 'benchmark-%';"
awk -v top="$TOP" -v n="$PROPERTIES" -v lt="$(printf '%s\n' "${lw[@]}" | median)" -v pt="$(printf '%s\n' "${peer[@]}" | median)" 'BEGIN {
    printf "export top %d of %d scored homes to mail: listwise %.2f s (target < 2 s), peer %.2f s, peer / listwise %.1fx\n", top, n, lt, pt, pt / lt }'
