"""Independent reference values for listwise's gradient-boosting tests (issue 16).

Run once: python3 Benchmarks/reference/gbm_reference.py
Writes Tests/ListwiseKitTests/Modeling/Fixtures/gbm_fixture.csv (data: split, label, six
features, empty = missing) and gbm_expected.json (LightGBM results with the settings listwise's
booster uses by default: 31 leaves, learning rate 0.1, 20 rows and 1e-3 hessian a leaf, no
penalty, no subsampling, 255 bins, early stopping after 50 trees without a better validation
log loss). Every feature has fewer than 255 distinct values, each at least 3 times, so that
LightGBM's bins are one per value, as listwise's are: the trees can then agree exactly.
Versions used are recorded in the JSON.
"""
import json
import pathlib

import lightgbm as lgb
import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

out = pathlib.Path(__file__).resolve().parents[2] / "Tests/ListwiseKitTests/Modeling/Fixtures"
out.mkdir(parents=True, exist_ok=True)

rng = np.random.default_rng(20261205)
n = 16000
tenure = rng.integers(0, 40, size=n).astype(float)                 # 40 values
age = np.round(rng.normal(55, 14, size=n)).clip(20, 95)             # ~76 values
absentee = rng.binomial(1, 0.25, size=n).astype(float)
gain = np.round(rng.gamma(2.0, 0.4, size=n), 1).clip(0, 8)          # ~80 values
lock = np.round(rng.normal(0.5, 1.5, size=n), 1).clip(-4, 4)        # ~81 values
zip_rate = np.round(rng.lognormal(0, 0.3, size=n), 2).clip(0.3, 2.5)
# Missing values: owner age unknown for 15 %, loan rate unknown (no loan) for 30 %.
age_missing = rng.random(n) < 0.15
lock_missing = rng.random(n) < 0.30
eta = (-2.4 + 1.6 * np.exp(-((tenure - 8) ** 2) / 30) + 0.05 * np.maximum(0, age - 65)
       + 1.1 * absentee * (gain > 1.0) + 0.6 * (gain - 0.8) - 0.45 * np.where(lock_missing, -1.0, lock)
       + 1.4 * np.log(zip_rate))
eta = np.where(age_missing, eta + 0.2, eta)
y = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
age[age_missing] = np.nan
lock[lock_missing] = np.nan
X = np.column_stack([tenure, age, absentee, gain, lock, zip_rate])
names = ["tenure", "age", "absentee", "gain", "lock", "zip_rate"]
split = np.array(["train"] * 8000 + ["valid"] * 4000 + ["test"] * 4000)

# Rare values would be merged into a neighbour's bin by LightGBM (min_data_in_bin = 3): keep
# every value at least 3 times in the training rows by moving rare ones to a common one.
for j in range(X.shape[1]):
    col = X[:, j]
    values, counts = np.unique(col[(split == "train") & ~np.isnan(col)], return_counts=True)
    rare = set(values[counts < 3])
    common = values[np.argmax(counts)]
    for i in range(n):
        if not np.isnan(col[i]) and (col[i] in rare or col[i] not in set(values)):
            col[i] = common
    X[:, j] = col
    assert len(np.unique(col[(split == "train") & ~np.isnan(col)])) < 255

params = dict(objective="binary", num_leaves=31, learning_rate=0.1, min_data_in_leaf=20,
              min_sum_hessian_in_leaf=1e-3, lambda_l2=0.0, max_bin=255, bagging_fraction=1.0,
              feature_fraction=1.0, num_threads=1, deterministic=True, verbose=-1, seed=1)
train = lgb.Dataset(X[split == "train"], y[split == "train"], free_raw_data=False)
valid = lgb.Dataset(X[split == "valid"], y[split == "valid"], reference=train)
record = {}
booster = lgb.train(params, train, num_boost_round=1000, valid_sets=[valid], valid_names=["valid"],
                    callbacks=[lgb.early_stopping(50, verbose=False), lgb.record_evaluation(record)])
best = booster.best_iteration
test = X[split == "test"]
p_test = booster.predict(test, num_iteration=best)
raw_first = booster.predict(test[:40], num_iteration=1, raw_score=True)
raw_best = booster.predict(test[:40], num_iteration=best, raw_score=True)
contrib_first = booster.predict(test[:20], num_iteration=1, pred_contrib=True)

# The same data, LightGBM's defaults without early stopping (100 trees), for the benchmark's reference.
expected = {
    "lightgbm_version": lgb.__version__,
    "numpy_version": np.__version__,
    "params": params,
    "early_stopping_rounds": 50,
    "best_iteration": int(best),
    "valid_log_loss_curve": [float(v) for v in record["valid"]["binary_logloss"][: best + 50]],
    "valid_log_loss_best": float(record["valid"]["binary_logloss"][best - 1]),
    "test_auc": float(roc_auc_score(y[split == "test"], p_test)),
    "test_log_loss": float(log_loss(y[split == "test"], p_test)),
    "test_raw_first_tree": [float(v) for v in raw_first],
    "test_raw_best": [float(v) for v in raw_best],
    "test_contrib_first_tree": [[float(v) for v in row] for row in contrib_first],
    "feature_names": names,
}
with open(out / "gbm_fixture.csv", "w") as f:
    f.write("split,label," + ",".join(names) + "\n")
    for i in range(n):
        cells = ["" if np.isnan(v) else repr(float(v)) for v in X[i]]
        f.write(f"{split[i]},{int(y[i])}," + ",".join(cells) + "\n")
with open(out / "gbm_expected.json", "w") as f:
    json.dump(expected, f, indent=1)
print("best iteration", best, "test AUC", expected["test_auc"])
