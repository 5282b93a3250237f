"""Independent reference values for listwise's logistic regression and metrics tests.

Run once: python3 Benchmarks/reference/logistic_reference.py
Writes Tests/ListwiseKitTests/Modeling/Fixtures/logistic_fixture.csv (data) and
logistic_expected.json (statsmodels / scikit-learn results). Versions used are recorded in the JSON.
"""
import json
import pathlib

import numpy as np
import scipy
import sklearn
import statsmodels
import statsmodels.api as sm
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

out = pathlib.Path(__file__).resolve().parents[2] / "Tests/ListwiseKitTests/Modeling/Fixtures"
out.mkdir(parents=True, exist_ok=True)

rng = np.random.default_rng(20261123)
n = 400
x1 = rng.normal(size=n)
x2 = 0.6 * x1 + 0.8 * rng.normal(size=n)          # correlated with x1
x3 = rng.uniform(-2, 2, size=n)
x4 = rng.binomial(1, 0.3, size=n).astype(float)
X = np.column_stack([x1, x2, x3, x4])
eta = -0.7 + 1.1 * x1 - 0.5 * x2 + 0.3 * x3 ** 2 + 0.8 * x4
y = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
w = rng.integers(1, 4, size=n).astype(float)        # frequency-like sample weights
score = np.round(1 / (1 + np.exp(-eta)), 1)         # rounded: many ties, for AUC

np.savetxt(out / "logistic_fixture.csv", np.column_stack([X, y, w, score]), delimiter=",",
           header="x1,x2,x3,x4,y,w,score", comments="", fmt="%.17g")

# Unpenalised, weighted: statsmodels binomial GLM with frequency weights.
glm = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(), freq_weights=w).fit(tol=1e-14)

# L2: scikit-learn minimises C * sum(w * logloss) + 0.5 * ||beta||^2 (intercept not penalised),
# i.e. lambda = 1 / C. Cross-checked against a direct scipy minimisation of the same objective.
lam = 2.5
sk = LogisticRegression(C=1 / lam, solver="newton-cholesky", tol=1e-14, max_iter=1000).fit(X, y, sample_weight=w)

def objective(theta):
    b0, b = theta[0], theta[1:]
    e = b0 + X @ b
    return np.sum(w * (np.logaddexp(0, e) - y * e)) + 0.5 * lam * b @ b

direct = minimize(objective, np.zeros(5), method="BFGS", options={"gtol": 1e-10})
sk_theta = np.concatenate([sk.intercept_, sk.coef_[0]])
assert np.allclose(direct.x, sk_theta, rtol=1e-5, atol=1e-7), (direct.x, sk_theta)

p = glm.predict(sm.add_constant(X))
expected = {
    "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__,
                 "statsmodels": statsmodels.__version__},
    "unpenalised": {"intercept": glm.params[0], "coefficients": list(glm.params[1:]),
                    "deviance": glm.deviance},
    "l2": {"lambda": lam, "intercept": float(sk.intercept_[0]), "coefficients": list(sk.coef_[0])},
    "metrics": {
        "roc_auc_tied_scores": roc_auc_score(y, score),
        "roc_auc_weighted_tied_scores": roc_auc_score(y, score, sample_weight=w),
        "average_precision_tied_scores": average_precision_score(y, score),
        "log_loss_unpenalised_fit": log_loss(y, p),
        "brier_unpenalised_fit": brier_score_loss(y, p),
    },
}
(out / "logistic_expected.json").write_text(json.dumps(expected, indent=2) + "\n")
print(json.dumps(expected, indent=2))
