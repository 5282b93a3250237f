#!/usr/bin/env bash
# The model families (issue 16) on one generated county: `listwise train --family logistic|gbm|auto`
# against the peer's LightGBM on listwise's own feature matrix (Benchmarks/peer_gbm.py: default
# settings, and tuned by early stopping on the same inner split), out of time at T: ROC AUC,
# top-decile lift, expected / actual listings, worst decile calibration; training time and peak
# memory; then scoring every home with the logistic and the chosen model.
# Usage: Benchmarks/families.sh [PROPERTIES] [RUNS]   (e.g. 100000 3, 1000000 1)
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
PROPERTIES=${1:-100000}
RUNS=${2:-1}
WORK=Benchmarks/work
DATA=$WORK/county-$PROPERTIES
DB=$WORK/train-$PROPERTIES.db
mkdir -p "$WORK"
python3 -c "import pandas, sklearn, lightgbm" 2>/dev/null || pip install -q pandas scikit-learn lightgbm

swift build -c release >/dev/null
BIN=.build/release/listwise
[ -f "$DATA/events.csv" ] || "$BIN" sample --properties "$PROPERTIES" --seed 1 --out "$DATA" 2>/dev/null
[ -f "$DB" ] || "$BIN" import "$DATA" --db "$DB" 2>/dev/null

for family in logistic gbm auto; do
    times=(); peaks=()
    for run in $(seq "$RUNS"); do
        /usr/bin/time -o "$WORK/families-time.txt" -f "%e %M" "$BIN" train --db "$DB" --family "$family" \
            --out "$WORK/families-$PROPERTIES-$family.json" 2>"$WORK/families-$family.log"
        read -r t m < "$WORK/families-time.txt"; times+=("$t"); peaks+=("$m")
    done
    printf '%s %s %s\n' "$family" "$(printf '%s\n' "${times[@]}" | median)" "$(printf '%s\n' "${peaks[@]}" | median)" \
        >> "$WORK/families-$PROPERTIES-times.txt.new"
    grep '^time:' "$WORK/families-$family.log" | sed "s/^/  $family: /" >&2
done
mv "$WORK/families-$PROPERTIES-times.txt.new" "$WORK/families-$PROPERTIES-times.txt"

# The same matrix for the peer: the two training snapshots and T, as listwise built them.
read -r OLDER NEWER T < <(python3 -c "
import json; m = json.load(open('$WORK/families-$PROPERTIES-auto.json')); print(*m['training_as_of'], m['validation_as_of'])")
for day in "$OLDER" "$NEWER" "$T"; do
    [ -f "$WORK/features-$PROPERTIES-$day.csv" ] || "$BIN" features --db "$DB" --as-of "$day" --out "$WORK/features-$PROPERTIES-$day.csv" 2>/dev/null
done
/usr/bin/time -o "$WORK/families-peer-time.txt" -f "%e %M" python3 Benchmarks/peer_gbm.py \
    "$WORK/features-$PROPERTIES-$OLDER.csv" "$WORK/features-$PROPERTIES-$NEWER.csv" "$WORK/features-$PROPERTIES-$T.csv" \
    > "$WORK/families-$PROPERTIES-peer.json"

# Scoring every home with the logistic model and with the trees.
for family in logistic gbm; do
    times=()
    for run in $(seq "$RUNS"); do
        /usr/bin/time -o "$WORK/families-time.txt" -f "%e %M" "$BIN" score --db "$DB" --model "$WORK/families-$PROPERTIES-$family.json" \
            --as-of 2025-12-31 2>/dev/null
        read -r t m < "$WORK/families-time.txt"; times+=("$t")
    done
    echo "$family $(printf '%s\n' "${times[@]}" | median) $m" >> "$WORK/families-$PROPERTIES-score.txt.new"
done
mv "$WORK/families-$PROPERTIES-score.txt.new" "$WORK/families-$PROPERTIES-score.txt"

python3 - "$WORK" "$PROPERTIES" "$RUNS" <<'PY'
import json, sys
work, n, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
times = {f: (float(t), int(m) / 1024) for f, t, m in (l.split() for l in open(f"{work}/families-{n}-times.txt"))}
scores = {f: (float(t), int(m) / 1024) for f, t, m in (l.split() for l in open(f"{work}/families-{n}-score.txt"))}
peer = json.load(open(f"{work}/families-{n}-peer.json"))
peer_wall, peer_peak = open(f"{work}/families-peer-time.txt").read().split()

def row(name, auc, lift, expected, positives, deciles, note):
    worst = max(abs(d["predicted"] / d["observed"] - 1) for d in deciles if d["observed"] > 0)
    print(f"  {name:<22} AUC {auc:.4f}  top-decile lift {lift:.2f}  expected/actual {expected / positives:.3f}"
          f"  worst decile {100 * worst:4.1f} %  {note}")

print(f"model families, {n:,} homes, out of time at T (median of {runs} run(s) for times)")
for family in ["logistic", "gbm", "auto"]:
    model = json.load(open(f"{work}/families-{n}-{family}.json"))
    m = model["metrics"]
    deciles = [{"predicted": d["mean_predicted"], "observed": d["observed_rate"]} for d in m["deciles"]]
    chosen = model.get("family") or "logistic"
    trees = f", {len(model['trees']['trees'])} trees" if model.get("trees") else ""
    row(f"listwise {family}", m["roc_auc"], m["deciles"][0]["lift"], m["expected_positives"], m["positives"], deciles,
        f"train {times[family][0]:.1f} s, peak {times[family][1]:.0f} MB ({chosen}{trees})")
for name in ["default", "tuned"]:
    p = peer[name]
    row(f"LightGBM {name}", p["roc_auc"], p["top_decile_lift"], p["expected"], p["positives"], p["deciles"],
        f"fit {p['fit_seconds']:.1f} s ({p['trees']} trees)")
print(f"  peer process: {float(peer_wall):.1f} s wall, peak {int(peer_peak) / 1024:.0f} MB (reads the feature CSVs; LightGBM {peer['lightgbm_version']}, 2 threads)")
print(f"  score every home: logistic {scores['logistic'][0]:.1f} s (peak {scores['logistic'][1]:.0f} MB), "
      f"gbm {scores['gbm'][0]:.1f} s (peak {scores['gbm'][1]:.0f} MB)")
PY
