#!/usr/bin/env bash
# Times `listwise train` (point-in-time features for K+1 snapshots + IRLS fit + out-of-time
# validation) against the peer (Benchmarks/peer_train.py: pandas builds the same features from
# the CSVs, scikit-learn LogisticRegression on the same stacked snapshots), on one generated
# county, and prints the time ratio and the out-of-time ROC AUC of listwise, scikit-learn LR and
# LightGBM on the same matrix. listwise reads an imported database: its one-time import is timed
# too and shown beside. Usage: Benchmarks/train.sh [PROPERTIES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
PROPERTIES=${1:-1000000}
RUNS=${2:-1}
WORK=Benchmarks/work
DATA=$WORK/county-$PROPERTIES
DB=$WORK/train-$PROPERTIES.db
mkdir -p "$WORK"
python3 -c "import pandas, sklearn, lightgbm" 2>/dev/null || pip install -q pandas scikit-learn lightgbm

swift build -c release >/dev/null
BIN=.build/release/listwise
[ -f "$DATA/events.csv" ] || "$BIN" sample --properties "$PROPERTIES" --seed 1 --out "$DATA"
if [ ! -f "$DB" ]; then
    /usr/bin/time -o "$WORK/import-time.txt" -f "%e" "$BIN" import "$DATA" --db "$DB" 2>/dev/null
fi
IMPORT_SECONDS=$(cat "$WORK/import-time.txt" 2>/dev/null || echo nan)

lw_times=(); peer_times=()
for run in $(seq "$RUNS"); do
    /usr/bin/time -o "$WORK/lw-time.txt" -f "%e %M" "$BIN" train --db "$DB" --out "$WORK/model.json" 2>"$WORK/train.log"
    read -r lw_t lw_m < "$WORK/lw-time.txt"
    VALIDATION=$(python3 -c "import json; print(json.load(open('$WORK/model.json'))['validation_as_of'])")
    /usr/bin/time -o "$WORK/peer-time.txt" -f "%e %M" python3 Benchmarks/peer_train.py "$DATA" "$VALIDATION" 365 2 > "$WORK/peer.json"
    read -r peer_t peer_m < "$WORK/peer-time.txt"
    lw_times+=("$lw_t"); peer_times+=("$peer_t")
    echo "  run $run: listwise train $lw_t s (peak ${lw_m} KB), peer $peer_t s (peak ${peer_m} KB)" >&2
done
LW=$(printf '%s\n' "${lw_times[@]}" | median)
PEER=$(printf '%s\n' "${peer_times[@]}" | median)
python3 - "$WORK/model.json" "$WORK/peer.json" "$LW" "$PEER" "$IMPORT_SECONDS" "$PROPERTIES" "$RUNS" <<'PY'
import json, sys
model, peer = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
lw, import_seconds = float(sys.argv[3]), float(sys.argv[5])
# The peer's own clock: read + features + scikit-learn fit (its LightGBM fit is not counted;
# interpreter start-up and imports are not counted either: a margin in the peer's favour).
peer_seconds = peer["total_seconds"]
print(f"listwise train vs pandas + scikit-learn, {int(sys.argv[6]):,} properties, median of {sys.argv[7]} run(s)")
print(f"  rows: training {model['rows']['training']:,} (listwise) / {peer['rows_training']:,} (peer), "
      f"validation {model['rows']['validation']:,} / {peer['rows_validation']:,} at {model['validation_as_of']}")
print(f"  time: listwise train {lw:.1f} s (wall, whole process); peer {peer_seconds:.1f} s (read CSVs {peer['read_seconds']:.1f} s, "
      f"features {peer['features_seconds'] - peer['read_seconds']:.1f} s, fit {peer['total_seconds'] - peer['features_seconds']:.1f} s)")
print(f"  ratio peer / listwise: {peer_seconds / lw:.2f}x (with listwise's one-time import of {import_seconds:.1f} s counted: "
      f"{peer_seconds / (lw + import_seconds):.2f}x)")
lgb = peer.get("lightgbm_auc")
print(f"  out-of-time ROC AUC: listwise {model['metrics']['roc_auc']:.4f}, scikit-learn LR {peer['sklearn_lr_auc']:.4f}, "
      f"LightGBM {lgb:.4f}" if lgb is not None else "LightGBM n/a")
PY
