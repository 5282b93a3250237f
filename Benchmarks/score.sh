#!/usr/bin/env bash
# Times `listwise score` of every home of a generated county against the peer
# (Benchmarks/peer_score.py: pandas features from the CSVs, scikit-learn predict_proba, ranks and
# tiers, results written to SQLite) in one run, and prints the ratio and peak memory. Run it for
# two sizes to see that listwise's memory does not grow with the number of homes:
#   Benchmarks/score.sh 1000000 && Benchmarks/score.sh 3000000
# A third argument picks the model family listwise trains (default auto, which chooses gbm at
# 1M homes); `logistic` scores with the same kind of model as the peer:
#   Benchmarks/score.sh 1000000 3 logistic
# Needs the imported database of Benchmarks/train.sh (made here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
PROPERTIES=${1:-1000000}
RUNS=${2:-1}
FAMILY=${3:-auto}
AS_OF=2025-12-31
WORK=Benchmarks/work
DATA=$WORK/county-$PROPERTIES
DB=$WORK/train-$PROPERTIES.db
mkdir -p "$WORK"
python3 -c "import pandas, sklearn" 2>/dev/null || pip install -q pandas scikit-learn

swift build -c release >/dev/null
BIN=.build/release/listwise
[ -f "$DATA/events.csv" ] || "$BIN" sample --properties "$PROPERTIES" --seed 1 --out "$DATA"
[ -f "$DB" ] || "$BIN" import "$DATA" --db "$DB" 2>/dev/null
MODEL=$WORK/model-$PROPERTIES.json
[ "$FAMILY" = auto ] || MODEL=$WORK/model-$PROPERTIES-$FAMILY.json
[ -f "$MODEL" ] || "$BIN" train --db "$DB" --family "$FAMILY" --out "$MODEL" 2>/dev/null
VALIDATION=$(python3 -c "import json; print(json.load(open('$MODEL'))['validation_as_of'])")

lw_t=(); lw_m=(); peer_t=(); peer_m=()
for run in $(seq "$RUNS"); do
    /usr/bin/time -o "$WORK/score-time.txt" -f "%e %M" "$BIN" score --db "$DB" --model "$MODEL" --as-of "$AS_OF" 2>/dev/null
    read -r t m < "$WORK/score-time.txt"; lw_t+=("$t"); lw_m+=("$m")
    rm -f "$WORK/peer-scores.db"
    /usr/bin/time -o "$WORK/peer-score-time.txt" -f "%e %M" python3 Benchmarks/peer_score.py "$DATA" "$AS_OF" "$VALIDATION" "$WORK/peer-scores.db" > "$WORK/peer-score.json"
    read -r _ pm < "$WORK/peer-score-time.txt"
    pt=$(python3 -c "import json; print(json.load(open('$WORK/peer-score.json'))['seconds'])")
    peer_t+=("$pt"); peer_m+=("$pm")
    echo "  run $run: listwise score $t s (peak ${m} KB); peer $pt s (process peak ${pm} KB, includes its untimed model fit)" >&2
done
awk -v n="$PROPERTIES" -v family="$(python3 -c "import json; print(json.load(open('$MODEL')).get('family', 'logistic'))")" -v lt="$(printf '%s\n' "${lw_t[@]}" | median)" -v lm="$(printf '%s\n' "${lw_m[@]}" | median)" \
    -v pt="$(printf '%s\n' "${peer_t[@]}" | median)" -v pm="$(printf '%s\n' "${peer_m[@]}" | median)" 'BEGIN {
    printf "score %d homes as of 2025-12-31 (%s model): listwise %.1f s (peak %.0f MB), peer %.1f s (peak %.0f MB), peer / listwise %.2fx\n",
        n, family, lt, lm / 1024, pt, pm / 1024, pt / lt }'
