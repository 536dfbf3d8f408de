"""Expand ``cohort_facts.csv`` into the data-contract tables (patients, events, study_meta).

Everything is derived deterministically from the facts file: dose rows from the cycle start days
and schedules, response/MRD rows from the ``assessments`` / ``mrd`` columns (``cycle:value@day``,
``@?`` = date not recorded), and the laboratory values behind each response row from a fixed
formula that respects the CR / CRi / NR definitions.  The rows are reconstructed from published
aggregates; they are not real patient data.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

FACTS_CSV = Path(__file__).resolve().parent / "cohort_facts.csv"

PATIENT_COLUMNS = [
    "patient_id", "centre", "sex", "age_years", "ph_status", "prior_tki_count", "cd22_pct",
    "disease_status", "salvage_line", "blast_pct", "emd_baseline", "ino_start_date",
    "data_cutoff_date", "safety_evaluable",
]
EVENT_COLUMNS = [
    "patient_id", "event_date", "event_type", "cycle", "cycle_day", "dose_mg_m2", "response",
    "marrow_blast_pct", "platelets_10e9_l", "anc_10e9_l", "emd_present", "mrd", "ae_term",
    "ae_grade", "cause", "followup_status", "relapse_site", "detail",
]

SOURCE = ("Real-world effectiveness and safety of inotuzumab ozogamicin in adults with "
          "relapsed/refractory B-cell acute lymphoblastic leukemia: a multicentric, retrospective "
          "study from five oncology centres in India (treatment Feb 2017 - Oct 2022; data collected "
          "8 Mar - 16 Oct 2023)")
DISCLAIMER = ("RECONSTRUCTED DATA - NOT REAL PATIENTS. These 32 patient records were reconstructed "
              "from the aggregate figures published in the source paper so that the computed "
              "endpoints reproduce them; individual trajectories, dates, ages and adverse events are "
              "synthetic and must not be used as clinical evidence.")


def _blank(v):
    return v is None or (isinstance(v, float) and pd.isna(v)) or v == ""


def _int(v):
    return None if _blank(v) else int(float(v))


def _parse_items(text):
    """'1:NR@25;2:CR@?' -> [(1, 'NR', 25), (2, 'CR', None)]."""
    out = []
    if _blank(text):
        return out
    for part in str(text).split(";"):
        head, day = part.rsplit("@", 1)
        cyc, val = head.split(":", 1)
        out.append((int(cyc), val, None if day == "?" else int(day)))
    return out


def _labs(pid_num: int, cycle: int, resp: str, emd_baseline: bool):
    """Deterministic counts consistent with the response definitions."""
    j = (pid_num * 7 + cycle * 3) % 10
    if resp == "CR":
        return 1.0 + 0.3 * j, 110.0 + 12 * j, 1.2 + 0.25 * j, False
    if resp == "CRi":
        return 2.0 + 0.2 * j, 55.0 + 3 * j, 1.1 + 0.1 * j, False   # platelets < 100
    return 12.0 + 7 * j, 18.0 + 6 * j, 0.3 + 0.15 * j, bool(emd_baseline)


def read_facts(path: Path = FACTS_CSV) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def reconstructed_tables(path: Path = FACTS_CSV):
    facts = read_facts(path)
    patients, events = [], []

    def ev(pid, day0, day, etype, **kw):
        row = {c: None for c in EVENT_COLUMNS}
        row.update(patient_id=pid, event_type=etype,
                   event_date=None if day is None else day0 + timedelta(days=int(day)))
        row.update(kw)
        events.append(row)

    for _, f in facts.iterrows():
        pid = f["patient_id"]
        start = date.fromisoformat(f["ino_start_date"])
        cutoff = date.fromisoformat(f["data_cutoff_date"])
        emd = f["emd_baseline"] == "True"
        patients.append(dict(
            patient_id=pid, centre=f["centre"], sex=f["sex"], age_years=float(f["age_years"]),
            ph_status=f["ph_status"] or None, prior_tki_count=int(f["prior_tki_count"]),
            cd22_pct=float(f["cd22_pct"]), disease_status=f["disease_status"],
            salvage_line=int(f["salvage_line"]), blast_pct=float(f["blast_pct"]),
            emd_baseline=emd, ino_start_date=start, data_cutoff_date=cutoff,
            safety_evaluable=f["safety_evaluable"] == "True",
        ))
        # InO doses
        starts = [int(x) for x in f["cycle_start_days"].split(";")]
        for c, s in enumerate(starts, start=1):
            sched = f["c1_doses"] if c == 1 else f["later_doses"]
            for cd, dose in zip((1, 8, 15), sched.split("/")):
                if dose != "-":
                    ev(pid, start, s + cd - 1, "ino_dose", cycle=c, cycle_day=cd, dose_mg_m2=float(dose))
        num = int(pid[1:])
        for c, resp, day in _parse_items(f["assessments"]):
            blasts, plt, anc, emd_now = _labs(num, c, resp, emd)
            ev(pid, start, day, "response", cycle=c, response=resp, marrow_blast_pct=round(blasts, 1),
               platelets_10e9_l=round(plt, 1), anc_10e9_l=round(anc, 2), emd_present=emd_now)
        for c, val, day in _parse_items(f["mrd"]):
            ev(pid, start, day, "mrd", cycle=c, mrd=val, detail="flow cytometry MRD (10^-4)")
        if not _blank(f["hsct_day"]):
            ev(pid, start, _int(f["hsct_day"]), "hsct", detail="allogeneic HSCT: " + f["hsct_detail"])
        if not _blank(f["relapse_day"]):
            ev(pid, start, _int(f["relapse_day"]), "relapse", relapse_site=f["relapse_site"],
               detail=f"relapse ({f['relapse_site']})")
        for part in filter(None, f["adverse_events"].split(";")):
            head, day = part.rsplit("@", 1)
            term, grade = head.rsplit(":", 1)
            ev(pid, start, int(day), "adverse_event", ae_term=term, ae_grade=int(grade))
        for part in filter(None, f["subsequent_therapy"].split(";")):
            label, day = part.rsplit("@", 1)
            ev(pid, start, int(day), "subsequent_therapy", detail=label)
        if not _blank(f["death_day"]):
            ev(pid, start, _int(f["death_day"]), "death", cause=f["death_cause"])
        else:
            ev(pid, start, _int(f["last_contact_day"]), "last_contact",
               followup_status=f["last_contact_status"])

    pts = pd.DataFrame(patients, columns=PATIENT_COLUMNS)
    evs = pd.DataFrame(events, columns=EVENT_COLUMNS)
    order = {t: i for i, t in enumerate(["ino_dose", "response", "mrd", "adverse_event", "hsct",
                                          "relapse", "subsequent_therapy", "death", "last_contact"])}
    evs["_d"] = pd.to_datetime(evs["event_date"])
    evs["_o"] = evs["event_type"].map(order)
    evs = evs.sort_values(["patient_id", "_d", "_o", "cycle", "cycle_day"], na_position="last",
                          kind="mergesort").drop(columns=["_d", "_o"]).reset_index(drop=True)
    for c in ("cycle", "cycle_day", "ae_grade"):
        evs[c] = evs[c].astype("Int64")
    evs["emd_present"] = evs["emd_present"].astype("boolean")
    meta = pd.DataFrame([
        ("reconstructed", "true"),
        ("label", "Reconstructed InO R/R B-ALL cohort (5 Indian centres)"),
        ("source", SOURCE),
        ("screened_identified", "50"),
        ("disclaimer", DISCLAIMER),
        ("n_patients", str(len(pts))),
        ("reconstruction_tool", "data/reconstruction/solve.py (python -m data.reconstruction.solve)"),
    ], columns=["key", "value"])
    return pts, evs, meta
