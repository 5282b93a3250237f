"""The peer of `listwise campaign results` (Benchmarks/campaign.sh): the same table from the same
SQLite database with pandas, numpy and statsmodels, written independently of listwise's code.

Usage: python3 Benchmarks/peer_campaign.py DB CAMPAIGN AS_OF   (AS_OF: YYYY-MM-DD, the window's end)
Prints JSON: per tier (High, Medium, Low, all) and group (contacted, held_out): homes, listed,
sold, listed_or_sold, predicted; the Wilson interval of the rate; the Mantel-Haenszel ratio over
the tiers. A home is contacted when any of its prospects was, else held out; its list is its
first export's (run as-of date, tier, probability); events count in (run as-of, AS_OF].
"""
import json
import sqlite3
import sys

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

db, campaign, as_of = sys.argv[1], sys.argv[2], sys.argv[3]
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
history = pd.read_sql_query(
    """SELECT h.property_id, h.held_out, e.id AS export_id, e.run_id, r.as_of AS run_as_of, r.horizon_days
       FROM exports e JOIN contact_history h ON h.export_id = e.id JOIN score_runs r ON r.id = e.run_id
       WHERE e.campaign = ?""", con, params=[campaign])
history = history.sort_values("export_id", kind="stable")
homes = history.groupby("property_id", sort=False).agg(
    contacted=("held_out", lambda s: bool((s == 0).any())), run_id=("run_id", "first"),
    run_as_of=("run_as_of", "first"), horizon_days=("horizon_days", "first")).reset_index()
runs = ",".join(str(int(r)) for r in homes.run_id.unique())
scores = pd.read_sql_query(f"SELECT run_id, property_id, tier, probability FROM scores WHERE run_id IN ({runs})", con)
homes = homes.merge(scores, on=["run_id", "property_id"], how="left")
start = homes.run_as_of.min()
events = pd.read_sql_query(
    "SELECT property_id, event_type, event_date FROM events WHERE event_type IN ('LISTING', 'SALE') AND event_date > ? AND event_date <= ?",
    con, params=[start, as_of])
events = events.merge(homes[["property_id", "run_as_of"]], on="property_id")
events = events[events.event_date > events.run_as_of]
listed = set(events.property_id[events.event_type == "LISTING"])
sold = set(events.property_id[events.event_type == "SALE"])
homes["listed"] = homes.property_id.isin(listed)
homes["sold"] = homes.property_id.isin(sold)
homes["either"] = homes.listed | homes.sold
days = (pd.Timestamp(as_of) - pd.to_datetime(homes.run_as_of)).dt.days.clip(lower=0)
homes["predicted"] = homes.probability * np.minimum(1.0, days / homes.horizon_days)
homes["tier"] = homes.tier.fillna("on market")


def group(frame):
    n, k = len(frame), int(frame.either.sum())
    out = {"homes": n, "listed": int(frame.listed.sum()), "sold": int(frame.sold.sum()), "listed_or_sold": k,
           "predicted": float(frame.predicted.sum())}
    if n:
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        out["rate_interval"] = [float(low), float(high)]
    return out


result = {}
strata = []
for tier in ["High", "Medium", "Low", "on market"]:
    frame = homes[homes.tier == tier]
    if frame.empty:
        continue
    c, h = frame[frame.contacted], frame[~frame.contacted]
    result[tier] = {"contacted": group(c), "held_out": group(h)}
    strata.append((int(c.either.sum()), len(c), int(h.either.sum()), len(h)))
result["all"] = {"contacted": group(homes[homes.contacted]), "held_out": group(homes[~homes.contacted])}
r = s = v = 0.0
for a, n1, c, n2 in strata:
    if n1 and n2:
        n = n1 + n2
        r += a * n2 / n
        s += c * n1 / n
        v += (n1 * n2 * (a + c) - a * c * n) / n**2
if r > 0 and s > 0:
    se = np.sqrt(v / (r * s))
    result["all"]["ratio"] = r / s
    result["all"]["ratio_interval"] = [r / s * np.exp(-1.959963984540054 * se), r / s * np.exp(1.959963984540054 * se)]
print(json.dumps(result))
