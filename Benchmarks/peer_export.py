"""Peer for Benchmarks/export.sh: the same mail list with pandas.

Reads the score run, properties and prospects from the listwise database, takes the N best
homes not on the market, drops do-not-mail prospects, uses the owner's mailing address when
there is one, standardises street lines with the common Publication 28 suffix and
directional abbreviations (vectorised string replacements), merges prospects sharing an
address into one household row and writes the CSV. Prints the seconds it took as JSON.

    python3 Benchmarks/peer_export.py DB RUN_ID N OUT.csv
"""
import json
import re
import sqlite3
import sys
import time

import pandas as pd

SUFFIXES = {"STREET": "ST", "STR": "ST", "AVENUE": "AVE", "AV": "AVE", "ROAD": "RD", "DRIVE": "DR", "COURT": "CT",
            "BOULEVARD": "BLVD", "LANE": "LN", "PLACE": "PL", "TERRACE": "TER", "CIRCLE": "CIR", "WAY": "WAY",
            "HIGHWAY": "HWY", "PARKWAY": "PKWY", "SQUARE": "SQ", "TRAIL": "TRL", "CROSSING": "XING"}
DIRECTIONS = {"NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W"}
UNITS = {"APARTMENT": "APT", "SUITE": "STE", "UNIT": "UNIT", "#": "#"}


def standardise(street: pd.Series) -> pd.DataFrame:
    s = street.fillna("").str.upper().str.replace(r"[^A-Z0-9#/\- ]", " ", regex=True).str.split().str.join(" ")
    unit = s.str.extract(r"\s((?:APARTMENT|APT|SUITE|STE|UNIT|#)\s*\S+)$", expand=False).fillna("")
    line1 = s.str.replace(r"\s(?:APARTMENT|APT|SUITE|STE|UNIT|#)\s*\S+$", "", regex=True)
    for word, abbreviation in {**SUFFIXES, **DIRECTIONS}.items():
        line1 = line1.str.replace(rf"\b{word}\b", abbreviation, regex=True)
    for word, abbreviation in UNITS.items():
        unit = unit.str.replace(rf"^{re.escape(word)}\s*", abbreviation + " ", regex=True)
    return pd.DataFrame({"address1": line1, "address2": unit.str.strip()})


def main():
    db, run_id, n, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    started = time.perf_counter()
    con = sqlite3.connect(db)
    scores = pd.read_sql_query(
        "SELECT property_id, probability, reason1, reason2, reason3 FROM scores WHERE run_id = ? AND on_market = 0",
        con, params=(run_id,))
    top = scores.sort_values(["probability", "property_id"], ascending=[False, True]).head(n)
    ids = tuple(top.property_id)
    homes = pd.read_sql_query("SELECT property_id, address, city, state, zip, zip4 FROM properties", con)
    homes = homes[homes.property_id.isin(ids)]
    prospects = pd.read_sql_query(
        "SELECT prospect_id, property_id, first_name, last_name, mailing_address, mailing_city, mailing_state, mailing_zip,"
        " mailing_zip4, do_not_mail FROM prospects", con)
    df = top.merge(homes, on="property_id").merge(prospects[prospects.property_id.isin(ids)], on="property_id")
    df = df[df.do_not_mail == 0]
    absentee = df.mailing_address.fillna("").str.strip() != ""
    street = df.mailing_address.where(absentee, df.address)
    df["city_out"] = df.mailing_city.where(absentee, df.city).str.upper()
    df["state_out"] = df.mailing_state.where(absentee, df.state).str.upper()
    zip5 = df.mailing_zip.where(absentee, df.zip)
    zip4 = df.mailing_zip4.where(absentee, df.zip4)
    df = pd.concat([df.reset_index(drop=True), standardise(street.reset_index(drop=True))], axis=1)
    df["zip_out"] = zip5.reset_index(drop=True).where(zip4.reset_index(drop=True).isna(),
                                                      zip5.reset_index(drop=True) + "-" + zip4.reset_index(drop=True))
    df["key"] = df.address1 + "|" + df.address2 + "|" + zip5.reset_index(drop=True)
    df["name"] = (df.first_name.fillna("") + " " + df.last_name.fillna("")).str.strip()
    rows = df.groupby("key", sort=False).agg(
        name=("name", lambda names: " & ".join(x for x in names if x) or "Current Resident"),
        address1=("address1", "first"), address2=("address2", "first"), city=("city_out", "first"),
        state=("state_out", "first"), zip=("zip_out", "first"), property_address=("address", "first"),
        probability=("probability", "max"), reason1=("reason1", "first"), reason2=("reason2", "first"),
        reason3=("reason3", "first"), prospect_ids=("prospect_id", ";".join))
    rows.sort_values("probability", ascending=False).to_csv(out, index=False)
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": len(rows)}))


if __name__ == "__main__":
    main()
