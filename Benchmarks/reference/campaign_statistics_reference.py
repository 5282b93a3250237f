"""Independent reference values for listwise's campaign interval tests (CampaignStatistics).

Run once: python3 Benchmarks/reference/campaign_statistics_reference.py
Writes Tests/ListwiseKitTests/Campaigns/Fixtures/campaign_statistics_expected.json: for each case
(a of n1 contacted homes and c of n2 held-out homes listed or sold) the 95 % Wilson interval of
each rate, Newcombe's hybrid score interval for p1 - p2, and the risk ratio p1 / p2 with its log
interval, all from statsmodels. The ratio uses method="log" when a and c are both above 0, and
"log-adjusted" (0.5 added to a, c, n1 and n2) when either is 0; none when both are 0. Its point
value is the plain (a/n1)/(c/n2) when c > 0, else the adjusted one (the interval's log-scale
centre). Versions used are recorded in the JSON.
"""
import json
import pathlib

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

out = pathlib.Path(__file__).resolve().parents[2] / "Tests/ListwiseKitTests/Campaigns/Fixtures"
out.mkdir(parents=True, exist_ok=True)

# (a, n1, c, n2)
cases = [
    (3, 40, 1, 38),            # small counts
    (1, 10, 2, 10),            # tiny, contacted below held out
    (120, 1000, 40, 1000),     # moderate
    (7, 300, 12, 310),         # low rates, ratio below 1
    (2100, 20000, 180, 5000),  # large, unequal groups
    (50, 500, 10, 100),        # equal rates
    (0, 50, 4, 60),            # zero cell in the contacted group: adjusted ratio
    (5, 50, 0, 60),            # zero cell in the held-out group: adjusted ratio
    (0, 50, 0, 60),            # no events at all: no ratio
    (40, 40, 30, 40),          # a == n1
    (999, 1000, 1, 1000),      # extremes on both sides
]


def interval(pair):
    lower, upper = pair
    return {"lower": float(lower), "upper": float(upper)}


def ratio_entry(a, n1, c, n2):
    if a == 0 and c == 0:
        return None
    method = "log" if a > 0 and c > 0 else "log-adjusted"
    bounds = confint_proportions_2indep(a, n1, c, n2, method=method, compare="ratio", alpha=0.05)
    if c > 0:
        point = (a / n1) / (c / n2)
    else:
        point = ((a + 0.5) / (n1 + 0.5)) / ((c + 0.5) / (n2 + 0.5))
    return {"method": method, "ratio": float(point), "interval": interval(bounds)}


expected = {
    "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "statsmodels": statsmodels.__version__},
    "z": float(stats.norm.isf(0.025)),
    "cases": [
        {
            "a": a, "n1": n1, "c": c, "n2": n2,
            "wilson_contacted": interval(proportion_confint(a, n1, alpha=0.05, method="wilson")),
            "wilson_held_out": interval(proportion_confint(c, n2, alpha=0.05, method="wilson")),
            "difference": interval(confint_proportions_2indep(a, n1, c, n2, method="newcomb", compare="diff", alpha=0.05)),
            "ratio": ratio_entry(a, n1, c, n2),
        }
        for a, n1, c, n2 in cases
    ],
}

(out / "campaign_statistics_expected.json").write_text(json.dumps(expected, indent=2) + "\n")
print(json.dumps(expected, indent=2))
