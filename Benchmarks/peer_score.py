"""The peer for Benchmarks/score.sh: pandas computes the point-in-time features of every home at
the as-of date from the CSVs (peer_train.py), scikit-learn predict_proba scores them, ranks and
tiers are computed, and the results are written to an SQLite table. The logistic model is fitted
beforehand on the usual training snapshots (not timed). Prints one JSON object.

Usage: python3 peer_score.py DATA_DIR AS_OF VALIDATION_AS_OF SQLITE_FILE
"""
import json
import sqlite3
import sys
import time

import pandas as pd

from peer_train import load, logistic_model, snapshot, with_type

data, as_of, validation_as_of, database = sys.argv[1], pd.Timestamp(sys.argv[2]), pd.Timestamp(sys.argv[3]), sys.argv[4]
horizon = 365

d = load(data)
training = pd.concat([snapshot(d, validation_as_of - pd.Timedelta(days=k * horizon), horizon) for k in (2, 1)])
model = logistic_model().fit(with_type(training), training["label"])
del d, training

started = time.perf_counter()
d = load(data)
homes = snapshot(d, as_of, horizon, include_on_market=True)
homes["probability"] = model.predict_proba(with_type(homes))[:, 1]
ranked = ~homes["on_market"]
homes.loc[ranked, "rank"] = homes.loc[ranked, "probability"].rank(ascending=False, method="min")
n = ranked.sum()
homes["tier"] = pd.cut(homes["rank"], [0, 0.2 * n, 0.5 * n, n], labels=["High", "Medium", "Low"])
out = homes[["probability", "rank", "tier", "on_market"]].reset_index()
with sqlite3.connect(database) as connection:
    out.to_sql("peer_scores", connection, if_exists="replace", index=False, chunksize=100_000)
seconds = time.perf_counter() - started
print(json.dumps({"rows": len(homes), "seconds": seconds}))
