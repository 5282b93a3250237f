"""The peer for Benchmarks/train.sh: pandas builds listwise's point-in-time features from the CSVs,
then scikit-learn LogisticRegression is fitted on the same stacked snapshots and validated out of
time at T; LightGBM is fitted on the same matrix for reference.

Owner attributes are taken as of each snapshot from owners.csv, as listwise does (taking them from
today's prospects would win by leakage). Prints one JSON object on stdout.

Usage: python3 peer_train.py DATA_DIR VALIDATION_AS_OF HORIZON_DAYS SNAPSHOTS [RATES_CSV [FEATURES_OUT_CSV]]
"""
import json
import pathlib
import sys
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

class Data:
    """The four CSVs, read and sorted once."""


DEFAULT_RATES = str(pathlib.Path(__file__).resolve().parents[1] / "Data/mortgage_rates_30y.csv")


def load(data, rates_path=DEFAULT_RATES):
    d = Data()
    properties = pd.read_csv(f"{data}/properties.csv", dtype={"property_id": str, "zip": str},
                         usecols=["property_id", "zip", "year_built", "living_sqft", "lot_sqft", "bedrooms",
                                  "bathrooms", "property_type"])
    properties["zip"] = properties["zip"].str[:5]
    d.properties = properties
    owners = pd.read_csv(f"{data}/owners.csv", dtype={"property_id": str}, parse_dates=["owner_since"])
    events = pd.read_csv(f"{data}/events.csv", dtype={"property_id": str}, parse_dates=["event_date"])
    rates = pd.read_csv(rates_path)
    d.rate_by_year = dict(zip(rates["year"], rates["rate_percent"]))
    d.last_year = max(d.rate_by_year)
    d.events = events.sort_values(["property_id", "event_date", "event_type"], kind="stable")
    d.owners = owners.sort_values(["property_id", "owner_since"], kind="stable")
    return d


def last_per_property(frame):
    return frame.groupby("property_id", sort=False).tail(1).set_index("property_id")


def snapshot(d, T, horizon, include_on_market=False):
    properties, owners, events, rate_by_year, last_year = d.properties, d.owners, d.events, d.rate_by_year, d.last_year

    def market_rate(dates):
        return dates.dt.year.clip(upper=last_year).map(rate_by_year).astype(float)

    past = events[events["event_date"] <= T]
    exists = set(owners.loc[owners["owner_since"] <= T, "property_id"]) | set(past["property_id"])
    exists |= set(properties.loc[properties["year_built"] < T.year, "property_id"])
    frame = properties[properties["property_id"].isin(exists)].set_index("property_id")

    market = last_per_property(past[past["event_type"].isin(["LISTING", "SALE", "DELISTING"])])
    on_market = market.index[market["event_type"] == "LISTING"]
    future = events[(events["event_date"] > T) & (events["event_date"] <= T + pd.Timedelta(days=horizon))
                    & events["event_type"].isin(["LISTING", "SALE"])]
    frame["label"] = frame.index.isin(set(future["property_id"])).astype(float)

    owner = last_per_property(owners[owners["owner_since"] <= T])
    last_sale = last_per_property(past[past["event_type"] == "SALE"])
    owned_since = owner["owner_since"].reindex(frame.index).fillna(last_sale["event_date"].reindex(frame.index))
    frame["tenure_years"] = (T - owned_since).dt.days / 365.25
    frame["owner_age"] = T.year - owner["owner_birth_year"].reindex(frame.index)
    frame["absentee"] = owner["absentee"].reindex(frame.index).map({"Y": 1.0, "N": 0.0})
    frame["corporate"] = owner["corporate"].reindex(frame.index).map({"Y": 1.0, "N": 0.0})

    sales = past[past["event_type"] == "SALE"][["property_id", "event_date", "amount"]]
    since = owned_since.rename("since").reset_index()
    purchase = sales.merge(since, on="property_id")
    purchase = last_per_property(purchase[purchase["event_date"] == purchase["since"]])["amount"]
    value = last_per_property(past[past["event_type"].isin(["VALUATION", "SALE"]) & past["amount"].notna()])["amount"]
    loans = past[past["event_type"] == "MORTGAGE"].merge(since, on="property_id", how="left")
    loans = last_per_property(loans[loans["since"].isna() | (loans["event_date"] >= loans["since"])])
    loan_rate = loans["rate"].fillna(market_rate(loans["event_date"]))
    frame["years_since_loan"] = ((T - loans["event_date"]).dt.days / 365.25).reindex(frame.index)
    frame["loan_to_value"] = (loans["amount"] / value.reindex(loans.index)).reindex(frame.index)
    frame["rate_lock_in"] = (rate_by_year[min(T.year, last_year)] - loan_rate).reindex(frame.index)
    frame["appreciation"] = (value / purchase.reindex(value.index)).reindex(frame.index)
    delist = last_per_property(past[past["event_type"] == "DELISTING"])["event_date"]
    frame["months_since_delisting"] = ((T - delist).dt.days / 30.4375).reindex(frame.index)
    defaults = past[(past["event_type"] == "DEFAULT") & (past["event_date"] > T - pd.Timedelta(days=731))]
    frame["default_last_2_years"] = frame.index.isin(set(defaults["property_id"])).astype(float)
    recent_sales = sales[sales["event_date"] > T - pd.Timedelta(days=3653)].groupby("property_id").size()
    frame["prior_sales_10_years"] = recent_sales.reindex(frame.index).fillna(0)
    frame["home_age"] = T.year - frame["year_built"]
    listed = past[(past["event_type"] == "LISTING") & (past["event_date"] > T - pd.Timedelta(days=1096))]
    frame["listed36"] = frame.index.isin(set(listed["property_id"])).astype(float)
    zip_rate = frame.groupby("zip")["listed36"].transform("mean")
    frame["zip_listing_rate_36m_vs_county"] = zip_rate / frame["listed36"].mean()
    frame["on_market"] = frame.index.isin(set(on_market))
    if not include_on_market:
        frame = frame[~frame["on_market"]]
    return frame.drop(columns=["listed36", "year_built"])


def logistic_model():
    return make_pipeline(
        ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="mean", add_indicator=True), StandardScaler()), NUMERIC),
            ("type", OneHotEncoder(handle_unknown="ignore"), ["property_type"]),
        ]),
        LogisticRegression(C=1.0, max_iter=1000),
    )


def with_type(frame):
    return frame.assign(property_type=frame["property_type"].fillna("MISSING"))


NUMERIC = ["tenure_years", "owner_age", "absentee", "corporate", "years_since_loan", "loan_to_value", "rate_lock_in",
           "appreciation", "months_since_delisting", "default_last_2_years", "prior_sales_10_years", "home_age",
           "living_sqft", "lot_sqft", "bedrooms", "bathrooms", "zip_listing_rate_36m_vs_county"]


if __name__ == "__main__":
    data, validation_as_of, horizon, snapshots = sys.argv[1], pd.Timestamp(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    started = time.perf_counter()
    d = load(data, sys.argv[5] if len(sys.argv) > 5 else DEFAULT_RATES)
    read_seconds = time.perf_counter() - started
    snapshot_dates = [validation_as_of - pd.Timedelta(days=k * horizon) for k in range(snapshots, 0, -1)]
    frames = [snapshot(d, T, horizon) for T in snapshot_dates]
    training = pd.concat(frames)
    validation = snapshot(d, validation_as_of, horizon)
    features_seconds = time.perf_counter() - started
    if len(sys.argv) > 6:  # optional: dump the validation snapshot's features to compare with `listwise features`
        validation.to_csv(sys.argv[6])

    model = logistic_model()
    model.fit(with_type(training), training["label"])
    lr_auc = roc_auc_score(validation["label"], model.predict_proba(with_type(validation))[:, 1])
    total_seconds = time.perf_counter() - started

    result = {"rows_training": len(training), "rows_validation": len(validation), "read_seconds": read_seconds,
              "features_seconds": features_seconds, "total_seconds": total_seconds, "sklearn_lr_auc": lr_auc}
    try:
        import lightgbm
        lgb_started = time.perf_counter()
        as_matrix = lambda f: f[NUMERIC].assign(property_type=f["property_type"].astype("category"))
        booster = lightgbm.LGBMClassifier(n_estimators=400, learning_rate=0.05, num_leaves=63, verbose=-1)
        booster.fit(as_matrix(training), training["label"])
        result["lightgbm_auc"] = roc_auc_score(validation["label"], booster.predict_proba(as_matrix(validation))[:, 1])
        result["lightgbm_seconds"] = time.perf_counter() - lgb_started
    except ImportError:
        result["lightgbm_auc"] = None
    print(json.dumps(result))
