#!/usr/bin/env bash
# Measured campaigns (issue 17) on one generated county: the events to the end of 2024 imported, a
# logistic model trained and every home scored as of 2024-12-31; then `export --top TOP` to a mail
# list without and with `--holdout 10` (what the draw costs), 2025's events imported, and
# `listwise campaign results` against the peer (Benchmarks/peer_campaign.py: the same table from
# the same database with pandas and statsmodels). Checks that both count the same homes, listings
# and sales in every tier and group; prints medians and ratios.
#   Benchmarks/campaign.sh [PROPERTIES] [TOP] [RUNS]   (e.g. 1000000 100000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
PROPERTIES=${1:-100000}
TOP=${2:-$((PROPERTIES / 10))}
RUNS=${3:-3}
WORK=Benchmarks/work
DATA=$WORK/county-$PROPERTIES
DB=$WORK/campaign-$PROPERTIES.db
mkdir -p "$WORK"
python3 -c "import pandas, statsmodels" 2>/dev/null || pip install -q pandas statsmodels
swift build -c release >/dev/null
BIN=.build/release/listwise
[ -f "$DATA/events.csv" ] || "$BIN" sample --properties "$PROPERTIES" --seed 1 --out "$DATA" 2>/dev/null

if [ ! -f "$DB" ]; then
    # The county's history to the end of 2024 (event_date is the third column), then 2025 apart.
    awk -F, 'NR == 1 || $3 <= "2024-12-31"' "$DATA/events.csv" > "$WORK/campaign-events-before.csv"
    awk -F, 'NR == 1 || $3 > "2024-12-31"' "$DATA/events.csv" > "$WORK/campaign-events-after.csv"
    for kind in properties owners prospects; do "$BIN" import "$DATA/$kind.csv" --db "$DB.new" 2>/dev/null; done
    "$BIN" import events "$WORK/campaign-events-before.csv" --db "$DB.new" 2>/dev/null
    "$BIN" train --db "$DB.new" --family logistic --out "$WORK/campaign-$PROPERTIES.json" 2>/dev/null
    "$BIN" score --db "$DB.new" --model "$WORK/campaign-$PROPERTIES.json" --as-of 2024-12-31 2>/dev/null
    mv "$DB.new" "$DB"; rm -f "$DB.new-wal" "$DB.new-shm"
fi
RUN=$(sqlite3 "$DB" "SELECT max(id) FROM score_runs")
# Every run starts from the scored county: the benchmark's campaigns and 2025's events go.
reset() {
    sqlite3 "$DB" "DELETE FROM contact_history; DELETE FROM exports; DELETE FROM campaigns;
                   DELETE FROM events WHERE event_date > '2024-12-31'; DELETE FROM imports WHERE file LIKE '%campaign-events-after%';"
}

plain=(); held=(); results=(); peer=()
for run in $(seq "$RUNS"); do
    reset
    read -r t m < <(time_one "$BIN" export --db "$DB" --run "$RUN" --channel mail --campaign "plain-$run" --top "$TOP" \
        --out "$WORK/campaign-plain.csv"); plain+=("$t")
    read -r t m < <(time_one "$BIN" export --db "$DB" --run "$RUN" --channel mail --campaign "measured-$run" --top "$TOP" \
        --holdout 10 --holdout-seed "$run" --out "$WORK/campaign-measured.csv"); held+=("$t")
    grep 'held out' "$WORK/stderr.txt" | sed 's/^/  /' >&2
    "$BIN" import events "$WORK/campaign-events-after.csv" --db "$DB" 2>/dev/null
    read -r t m < <(time_one "$BIN" campaign results "measured-$run" --db "$DB" --as-of 2025-12-31 --format json)
    results+=("$t"); peak=$m
    "$BIN" campaign results "measured-$run" --db "$DB" --as-of 2025-12-31 --format json > "$WORK/campaign-listwise.json"
    start=$(date +%s.%N)
    python3 Benchmarks/peer_campaign.py "$DB" "measured-$run" 2025-12-31 > "$WORK/campaign-peer.json"
    peer+=("$(echo "$(date +%s.%N) - $start" | bc)")
    python3 - "$WORK/campaign-listwise.json" "$WORK/campaign-peer.json" <<'PY'
import json, sys
ours, peer = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for row in ours["tiers"]:
    for group in ["contacted", "held_out"]:
        a, b = row[group], peer[row["tier"]][group]
        keys = ["homes", "listed", "sold", "listed_or_sold"]
        assert [a[k] for k in keys] == [b[k] for k in keys], (row["tier"], group, a, b)
        assert abs(a["predicted"] - b["predicted"]) < 1e-6 * max(1, b["predicted"]), (a["predicted"], b["predicted"])
all_ = ours["tiers"][-1]
assert abs(all_["ratio"] - peer["all"]["ratio"]) < 1e-9, (all_["ratio"], peer["all"]["ratio"])
print(f"  same counts as the peer in every tier; {ours['verdict']}", file=sys.stderr)
PY
    echo "  run $run: export ${plain[-1]} s, with holdout ${held[-1]} s; results ${results[-1]} s (peak ${peak} KB), peer ${peer[-1]} s" >&2
done
reset
awk -v top="$TOP" -v n="$PROPERTIES" -v p="$(printf '%s\n' "${plain[@]}" | median)" -v h="$(printf '%s\n' "${held[@]}" | median)" \
    -v r="$(printf '%s\n' "${results[@]}" | median)" -v q="$(printf '%s\n' "${peer[@]}" | median)" 'BEGIN {
    printf "export top %d of %d homes to mail: %.2f s, with --holdout 10: %.2f s (%.2fx)\n", top, n, p, h, h / p
    printf "campaign results: listwise %.2f s, peer %.2f s, peer / listwise %.1fx\n", r, q, q / r }'
