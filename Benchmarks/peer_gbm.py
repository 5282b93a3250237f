"""The peer for Benchmarks/families.sh: LightGBM on listwise's own feature matrix (written by
`listwise features` for the two training snapshots and the out-of-time one), with its default
settings (100 trees) and tuned by early stopping the way listwise tunes its trees: fitted on the
older training snapshot, stopped on the newest (50 trees without a better log loss), then refitted
on both with the best tree count. Both on 2 threads. Prints one JSON object with out-of-time
metrics and the fits' wall time.

Usage: python3 peer_gbm.py OLDER.csv NEWER.csv VALIDATION.csv
"""
import json
import resource
import sys
import time

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score

TYPES = ["SFR", "CONDO", "TOWNHOUSE", "MULTI", "MOBILE", "OTHER"]


def load(path):
    frame = pd.read_csv(path, dtype={"property_id": str, "property_type": str})
    frame = frame[frame["label"].notna()]
    frame["property_type"] = frame["property_type"].map({t: i for i, t in enumerate(TYPES)}).astype(float)
    features = [c for c in frame.columns if c not in ("property_id", "as_of", "label", "on_market")]
    return frame[features].to_numpy(dtype=np.float64), frame["label"].to_numpy(dtype=np.float64), features


def metrics(y, p):
    order = np.argsort(-p, kind="stable")
    n = len(y)
    base = y.mean()
    deciles = []
    for d in range(10):
        rows = order[d * n // 10:(d + 1) * n // 10]
        deciles.append({"predicted": float(p[rows].mean()), "observed": float(y[rows].mean()),
                        "lift": float(y[rows].mean() / base)})
    return {"roc_auc": float(roc_auc_score(y, p)), "log_loss": float(log_loss(y, p)),
            "expected": float(p.sum()), "positives": float(y.sum()), "top_decile_lift": deciles[0]["lift"],
            "deciles": deciles}


older_x, older_y, names = load(sys.argv[1])
newer_x, newer_y, _ = load(sys.argv[2])
valid_x, valid_y, _ = load(sys.argv[3])
train_x = np.vstack([older_x, newer_x])
train_y = np.concatenate([older_y, newer_y])
base = dict(objective="binary", num_threads=2, verbose=-1, seed=1, deterministic=True)

started = time.time()
default = lgb.train(base, lgb.Dataset(train_x, train_y), num_boost_round=100)
default_seconds = time.time() - started

started = time.time()
inner = lgb.train(base, lgb.Dataset(older_x, older_y), num_boost_round=2000,
                  valid_sets=[lgb.Dataset(newer_x, newer_y)],
                  callbacks=[lgb.early_stopping(50, verbose=False)])
best = inner.best_iteration
tuned = lgb.train(base, lgb.Dataset(train_x, train_y), num_boost_round=best)
tuned_seconds = time.time() - started

print(json.dumps({
    "rows_training": int(len(train_y)), "rows_validation": int(len(valid_y)),
    "default": {**metrics(valid_y, default.predict(valid_x)), "trees": 100, "fit_seconds": default_seconds},
    "tuned": {**metrics(valid_y, tuned.predict(valid_x)), "trees": int(best), "fit_seconds": tuned_seconds},
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "lightgbm_version": lgb.__version__,
}))
