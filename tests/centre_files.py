"""A cohort written out the way each centre keeps it: one workbook per centre, its own column names,
value labels and date styles, and no centre column (the file says which centre it is).

    paths = write_centre_workbooks(default_cohort, tmp_path)     # {"Centre A": tmp_path/"centre_a.xlsx", …}
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from core.database import open_cohort
from core.importer import export_import_format

PATIENT_HEADERS = {
    "patient_id": "Patient ID", "sex": "Gender", "age_years": "Age (years)", "ph_status": "Ph status",
    "prior_tki_count": "No. of prior TKIs", "cd22_pct": "CD22 (%)", "disease_status": "Relapsed/Refractory",
    "salvage_line": "Salvage", "blast_pct": "BM blasts (%)", "emd_baseline": "EMD at baseline",
    "ino_start_date": "Date of first InO", "data_cutoff_date": "Data cut-off", "safety_evaluable": "Evaluable for safety",
}
EVENT_HEADERS = {
    "patient_id": "Subject", "event_date": "Date", "event_type": "Event", "cycle": "Cycle", "cycle_day": "Day",
    "dose_mg_m2": "Dose (mg/m²)", "response": "Response", "marrow_blast_pct": "BM blasts (%)",
    "platelets_10e9_l": "Platelets (x10^9/L)", "anc_10e9_l": "ANC (x10^9/L)", "emd_present": "EMD",
    "mrd": "MRD status", "ae_term": "Toxicity", "ae_grade": "CTCAE grade", "cause": "Cause of death",
    "followup_status": "Status at last contact", "relapse_site": "Site of relapse", "detail": "Comments",
}
YES_NO = {"true": "Yes", "false": "No"}
LABELS: dict[str, dict[str, str]] = {
    "sex": {"M": "Male", "F": "Female"},
    "ph_status": {"Ph+": "Ph+ve", "Ph-": "Ph negative"},
    "disease_status": {"relapsed": "Relapse", "refractory": "Refractory"},
    "salvage_line": {"1": "1st salvage", "2": "S2", "3": "Salvage 3", "4": "4th salvage"},
    "emd_baseline": YES_NO, "safety_evaluable": YES_NO, "emd_present": YES_NO,
    "event_type": {"ino_dose": "InO dose", "response": "Response assessment", "mrd": "MRD assessment",
                   "hsct": "Allo-HSCT", "relapse": "Relapse", "adverse_event": "Adverse event", "death": "Died",
                   "last_contact": "Last follow-up", "subsequent_therapy": "Subsequent therapy"},
    "cycle": {str(i): f"C{i}" for i in range(1, 10)},
    "cycle_day": {str(i): f"D{i}" for i in range(1, 40)},
    "response": {"CR": "Complete remission", "CRi": "CR with incomplete count recovery", "NR": "No response"},
    "mrd": {"negative": "MRD negative", "positive": "MRD positive"},
    "ae_term": {"VOD": "Veno-occlusive disease", "thrombocytopenia": "Thrombocytopaenia",
                "febrile neutropenia": "Febrile neutropaenia", "AST increased": "Raised AST"},
    "ae_grade": {str(i): f"Grade {i}" for i in range(1, 6)},
    "cause": {"progression of disease": "Disease progression", "septic shock": "Sepsis",
              "not mentioned": "Unknown"},
    "followup_status": {"alive at cut-off": "Alive", "lost to follow-up": "Lost to follow-up"},
    "relapse_site": {"marrow": "Bone marrow", "marrow+CNS": "BM + CNS"},
}


def _day_month_year(text: str) -> str:
    return "" if not text else dt.date.fromisoformat(text).strftime("%d/%m/%Y")


def _day_mon_year(text: str) -> str:
    return "" if not text else dt.date.fromisoformat(text).strftime("%d-%b-%Y")


def _excel_date(text: str) -> object:
    return None if not text else dt.datetime.fromisoformat(text)


def centre_frames(patients: pd.DataFrame, events: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Cohort text tables (the import format) → each centre's own (patients, events), relabelled."""
    out = {}
    for centre, mine in patients.groupby("centre", sort=True):
        theirs = events[events["patient_id"].isin(set(mine["patient_id"]))]
        p = mine.drop(columns=["centre"]).copy()
        e = theirs.copy()
        for frame in (p, e):
            for column, labels in LABELS.items():
                if column in frame.columns:
                    frame[column] = frame[column].map(lambda v, m=labels: m.get(v, v))
        p["ino_start_date"] = p["ino_start_date"].map(_day_month_year)
        p["data_cutoff_date"] = p["data_cutoff_date"].map(_excel_date)
        e["event_date"] = e["event_date"].map(_day_mon_year)
        p["MRN"] = [f"MRN-{i:05d}" for i in range(len(p))]          # identifying: to be dropped
        out[str(centre)] = (p.rename(columns=PATIENT_HEADERS), e.rename(columns=EVENT_HEADERS))
    return out


def write_workbook(path: Path, patients: pd.DataFrame, events: pd.DataFrame) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, frame in (("Patients", patients), ("Events", events)):
        sheet = book.create_sheet(title)
        sheet.append(list(frame.columns))
        for record in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in record])
    book.save(path)
    return path


def _cell(value: object) -> object:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and "." not in value else number
    return value


def write_centre_workbooks(cohort_path: Path, directory: Path) -> dict[str, Path]:
    cohort = open_cohort(cohort_path)
    try:
        patients, events = export_import_format(cohort)
    finally:
        cohort.close()
    directory.mkdir(parents=True, exist_ok=True)
    return {centre: write_workbook(directory / f"{centre.lower().replace(' ', '_')}.xlsx", p, e)
            for centre, (p, e) in centre_frames(patients, events).items()}
