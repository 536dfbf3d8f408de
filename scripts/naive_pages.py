"""The benchmark's baseline: the same page endpoints computed the naive way, in pandas.

Read `patients` and `events` whole into pandas once; then, on every filter change, derive the
per-patient endpoints from the events frame with pandas group-bys, filter the patient frame with a
boolean mask, count in pandas, and fit lifelines on one row per patient. It follows the data
contract's definitions (the same ones as core.queries), so its headline numbers must agree with
the engine's — scripts/benchmark.py checks that they do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from core.contract import DAYS_PER_MONTH
from core.filters import FilterSpec
from core.results import proportion

AE_FLAGS = {
    "vod": ("VOD", 1), "ast_increased_g34": ("AST increased", 3), "alt_increased_g34": ("ALT increased", 3),
    "bilirubin_increased_g34": ("bilirubin increased", 3), "thrombocytopenia": ("thrombocytopenia", 1),
    "neutropenia": ("neutropenia", 1), "febrile_neutropenia": ("febrile neutropenia", 1),
}


def read_tables(con) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    return con.execute("SELECT * FROM patients").df(), con.execute("SELECT * FROM events").df()


def derive(patients: pd.DataFrame, events: pd.DataFrame, blast_threshold: float = 50.0) -> pd.DataFrame:
    """One row per patient with the derived endpoints (the data contract's rules), in pandas."""
    e = events
    out = patients.set_index("patient_id")
    doses = e[e["event_type"] == "ino_dose"]
    out["n_cycles"] = doses.groupby("patient_id")["cycle"].max()
    out["cycle1_dose_mg_m2"] = doses[doses["cycle"] == 1].groupby("patient_id")["dose_mg_m2"].sum()
    resp = e[e["event_type"] == "response"]
    n_resp = resp.groupby("patient_id").size()
    crs = resp[resp["response"].isin(["CR", "CRi"])].sort_values(
        ["patient_id", "cycle", "event_date"], na_position="last")
    first = crs.drop_duplicates("patient_id").set_index("patient_id")
    out["first_response"] = first["response"]
    out["cycles_to_response"] = first["cycle"]
    out["response_date"] = first["event_date"]
    out["first_dated_response_date"] = crs[crs["event_date"].notna()].groupby("patient_id")["event_date"].min()
    mrd = e[e["event_type"] == "mrd"].merge(first[["event_date", "cycle"]].rename(
        columns={"event_date": "r_date", "cycle": "r_cycle"}), left_on="patient_id", right_index=True)
    negative = mrd["mrd"] == "negative"
    at_first = (mrd["r_date"].notna() & (mrd["event_date"] == mrd["r_date"])) | \
        (mrd["r_date"].isna() & (mrd["cycle"] == mrd["r_cycle"]))
    out["mrd_negative"] = negative.groupby(mrd["patient_id"]).any()
    out["deep_response"] = (negative & at_first).groupby(mrd["patient_id"]).any()
    out["hsct_date"] = e[e["event_type"] == "hsct"].groupby("patient_id")["event_date"].min()
    out["relapse_date"] = e[e["event_type"] == "relapse"].groupby("patient_id")["event_date"].min()
    deaths = e[e["event_type"] == "death"].sort_values("event_date").drop_duplicates("patient_id").set_index("patient_id")
    out["death_date"], out["death_cause"] = deaths["event_date"], deaths["cause"]
    contact = e[e["event_type"] == "last_contact"].sort_values("event_date").drop_duplicates(
        "patient_id", keep="last").set_index("patient_id")
    out["last_contact_date"], out["followup_status"] = contact["event_date"], contact["followup_status"]
    ae = e[e["event_type"] == "adverse_event"]
    for flag, (term, grade) in AE_FLAGS.items():
        hit = (ae["ae_term"] == term) & (ae["ae_grade"] >= grade)
        out[flag] = hit.groupby(ae["patient_id"]).any()
    hsct_of_ae = ae["patient_id"].map(out["hsct_date"])
    out["vod_post_hsct"] = ((ae["ae_term"] == "VOD") & (ae["event_date"] >= hsct_of_ae)).groupby(ae["patient_id"]).any()
    for flag in (*AE_FLAGS, "vod_post_hsct", "mrd_negative", "deep_response"):
        out[flag] = out[flag].astype("boolean").fillna(False).astype(bool)

    dose = out["cycle1_dose_mg_m2"]
    out["cycle1_dose_group"] = np.where(dose.isna(), None, np.where((dose - 1.8).abs() <= 0.005, "1.8",
                                                                    np.where(dose < 1.8, "<1.8", ">1.8")))
    out["blast_burden"] = np.where(out["blast_pct"].isna(), None,
                                   np.where(out["blast_pct"] < blast_threshold, "low", "high"))
    out["age_group"] = np.where(out["age_years"] > 65, ">65", "18-65")
    out["responder"] = out["first_response"].notna()
    evaluable = n_resp.reindex(out.index).fillna(0) > 0
    out["response_evaluable"] = evaluable
    out["best_response"] = np.where(out["responder"], out["first_response"],
                                    np.where(evaluable, "NR", "not evaluable"))
    out["hsct"] = out["hsct_date"].notna()
    out["liver_toxicity_g34"] = out["ast_increased_g34"] | out["alt_increased_g34"] | out["bilirubin_increased_g34"]
    out["haematologic_toxicity"] = out["thrombocytopenia"] | out["neutropenia"] | out["febrile_neutropenia"]
    end = out["death_date"].fillna(out["last_contact_date"])
    out["os_days"] = (pd.to_datetime(end) - pd.to_datetime(out["ino_start_date"])).dt.days
    out["os_event"] = out["death_date"].notna()
    rod = pd.concat([out["relapse_date"], out["death_date"]], axis=1).min(axis=1)
    stop = pd.to_datetime(rod.fillna(out["last_contact_date"]))
    out["rfs_days"] = np.where(out["responder"], (stop - pd.to_datetime(out["ino_start_date"])).dt.days, np.nan)
    out["rfs_event"] = rod.notna()
    out["dor_days"] = np.where(out["responder"] & out["first_dated_response_date"].notna(),
                               (stop - pd.to_datetime(out["first_dated_response_date"])).dt.days, np.nan)
    out["dor_event"] = rod.notna()
    return out.reset_index()


def mask(frame: pd.DataFrame, spec: FilterSpec) -> pd.Series:
    """FilterSpec applied in pandas (the same missing-value rule as FilterSpec.where())."""
    keep = pd.Series(True, index=frame.index)

    def add(column: str, condition: pd.Series) -> None:
        nonlocal keep
        missing = frame[column].isna()
        keep &= (condition & ~missing) | (missing if spec.include_missing else False)

    if spec.blast_burden != "all":
        add("blast_pct", frame["blast_pct"] < spec.blast_threshold if spec.blast_burden == "low"
            else frame["blast_pct"] >= spec.blast_threshold)
    if spec.dose_groups:
        add("cycle1_dose_group", frame["cycle1_dose_group"].isin(spec.dose_groups))
    if spec.salvage_lines:
        add("salvage_line", frame["salvage_line"].isin(spec.salvage_lines))
    if spec.hsct is not None:
        keep &= frame["hsct"] == spec.hsct
    if spec.age_min is not None:
        add("age_years", frame["age_years"] >= spec.age_min)
    if spec.age_max is not None:
        add("age_years", frame["age_years"] <= spec.age_max)
    for field, column in (("sexes", "sex"), ("centres", "centre"), ("ph_statuses", "ph_status"),
                          ("disease_statuses", "disease_status")):
        if getattr(spec, field):
            add(column, frame[column].isin(getattr(spec, field)))
    if spec.emd_baseline is not None:
        add("emd_baseline", frame["emd_baseline"] == spec.emd_baseline)
    return keep


def _km(days: pd.Series, events: pd.Series) -> dict[str, float | None]:
    ok = days.notna() & (days >= 0)
    if ok.sum() < 2:
        return {"n": int(ok.sum())}
    kmf = KaplanMeierFitter().fit(days[ok] / DAYS_PER_MONTH, events[ok].astype(bool))
    bounds = np.asarray(median_survival_times(kmf.confidence_interval_)).ravel()
    ci = kmf.confidence_interval_survival_function_
    marks = {f"s_{t}": float(kmf.survival_function_at_times(t).iloc[0]) for t in (6.0, 12.0)}
    marks |= {f"s_{t}_lower": float(ci[ci.index <= t].iloc[-1, 0]) for t in (6.0, 12.0)}
    return {"n": int(ok.sum()), "median": float(kmf.median_survival_time_), "median_lower": float(bounds[0]), **marks}


def _rates(frame: pd.DataFrame, by: str, count: str, denominator: pd.Series | None = None) -> dict:
    out = {}
    for value, group in frame.groupby(by, dropna=False):
        out[value] = proportion("rate", int(group[count].sum()), len(group))
    return out


def response_summary(d: pd.DataFrame) -> dict:
    resp = d[d["responder"]]
    return {
        "n": len(d), "responders": int(d["responder"].sum()),
        "cr_cri": proportion("CR/CRi", int(d["responder"].sum()), len(d)),
        "mrd": proportion("MRD", int(resp["mrd_negative"].sum()), len(resp)),
        "deep": proportion("deep", int(resp["deep_response"].sum()), len(resp)),
        "hsct": proportion("HSCT", int(d["hsct"].sum()), len(d)),
        "ctr_median": resp["cycles_to_response"].median(),
        "composition": d["best_response"].value_counts().to_dict(),
    }


def overview(d: pd.DataFrame) -> dict:
    chars = {c: d[c].value_counts(dropna=False).to_dict() for c in (
        "sex", "age_group", "disease_status", "salvage_line", "n_cycles", "cycle1_dose_group", "blast_burden",
        "ph_status", "emd_baseline", "centre")}
    return {"summary": response_summary(d), "os": _km(d["os_days"], d["os_event"]),
            "age": d["age_years"].describe().to_dict(), "characteristics": chars}


def response(d: pd.DataFrame) -> dict:
    return {"summary": response_summary(d), **{g: _rates(d, g, "responder")
                                               for g in ("salvage_line", "blast_burden", "cycle1_dose_group")}}


def survival(d: pd.DataFrame) -> dict:
    out = {}
    for endpoint in ("os", "rfs", "dor"):
        for line, group in d.groupby("salvage_line"):
            out[(endpoint, line)] = _km(group[f"{endpoint}_days"], group[f"{endpoint}_event"])
    return out


def safety(d: pd.DataFrame) -> dict:
    tox = ("vod", "liver_toxicity_g34", "haematologic_toxicity")
    hsct, no = d[d["hsct"]], d[~d["hsct"] & d["safety_evaluable"]]
    by_hsct = {t: (proportion(t, int(hsct[t].sum()), len(hsct)), proportion(t, int(no[t].sum()), len(no)))
               for t in tox}
    comps = {c: proportion(c, int(d[c].sum()), len(d)) for c in (
        *tox, "thrombocytopenia", "neutropenia", "febrile_neutropenia", "ast_increased_g34", "alt_increased_g34",
        "bilirubin_increased_g34")}
    dead = d[d["os_event"]]
    causes = dead["death_cause"].fillna("not recorded").value_counts().to_dict()
    return {"by_hsct": by_hsct, "vod_by_line": _rates(d, "salvage_line", "vod"), "components": comps,
            "deaths": proportion("deaths", len(dead), len(d)), "causes": causes}


PAGES: dict[str, Callable[[pd.DataFrame], dict]] = {
    "overview": overview, "response": response, "survival": survival, "safety": safety,
}


def page(name: str, patients: pd.DataFrame, events: pd.DataFrame, spec: FilterSpec) -> dict:
    """What one filter change costs the naive way: derive, filter, compute the page's endpoints."""
    derived = derive(patients, events, spec.blast_threshold)
    return PAGES[name](derived[mask(derived, spec)])
