"""A cohort written the way REDCap exports records, and the way a sponsor's ADaM datasets hold it.

Both start from the import format's text tables (core.importer.export_import_format), so a round trip
through them can be compared with the cohort itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from core.database import open_cohort
from core.importer import export_import_format
from core.importer.redcap_dictionary import (
    EVENTS_FORM,
    OTHER_CODE,
    OTHER_SUFFIX,
    PATIENTS_FORM,
    SITE_JOINER,
    parse_choices,
    redcap_dictionary_frame,
)

NAME, FORM, TYPE, CHOICES = ("Variable / Field Name", "Form Name", "Field Type",
                             "Choices, Calculations, OR Slider Labels")


def cohort_text(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    cohort = open_cohort(path)
    try:
        return export_import_format(cohort)
    finally:
        cohort.close()


def _coded(kind: str, choices: dict[str, str], value: str, labels: bool) -> tuple[str, str]:
    """(the field's cell, the `_other` cell) for one contract value."""
    if value == "":
        return "", ""
    if kind == "yesno":
        yes = value == "true"
        return ("Yes" if yes else "No") if labels else ("1" if yes else "0"), ""
    codes = {label: code for code, label in choices.items()}
    if value in codes:
        return (value if labels else codes[value]), ""
    return ("other" if labels else OTHER_CODE), value


def redcap_records(patients: pd.DataFrame, events: pd.DataFrame, *, labels: bool = False,
                   access_groups: bool = False) -> pd.DataFrame:
    """The records export of a project made from the contract's dictionary: a row per patient, then a row
    per event (repeating instrument `events`). `labels` writes choice labels instead of codes."""
    dictionary = redcap_dictionary_frame()
    fields = list(dictionary.itertuples(index=False, name=None))
    columns = ["patient_id", "redcap_repeat_instrument", "redcap_repeat_instance"]
    if access_groups:
        columns.append("redcap_data_access_group")
    layout: list[tuple[str, str, str, dict[str, str]]] = []   # (field, form, type, choices)
    for row in fields:
        name, form, kind = row[0], row[1], row[3]
        choices = parse_choices(row[5]) or {}
        layout.append((name, form, kind, choices))
    for form in (PATIENTS_FORM, EVENTS_FORM):
        for name, f, kind, choices in layout:
            if f != form or name == "patient_id":
                continue
            if kind == "checkbox":
                columns.extend(f"{name}___{code}" for code in choices)
            else:
                columns.append(name)
        columns.append(f"{form}_complete")
    out: list[dict[str, str]] = []
    by_patient = {pid: group for pid, group in events.groupby("patient_id", sort=False)}
    for patient in patients.to_dict("records"):
        record = dict.fromkeys(columns, "")
        record["patient_id"] = patient["patient_id"]
        if access_groups:
            record["redcap_data_access_group"] = patient["centre"]
        _fill(record, patient, layout, PATIENTS_FORM, labels)
        record["patients_complete"] = "Complete" if labels else "2"
        out.append(record)
        group = by_patient.get(patient["patient_id"])
        for instance, event in enumerate([] if group is None else group.to_dict("records"), start=1):
            row = dict.fromkeys(columns, "")
            row.update({"patient_id": patient["patient_id"], "redcap_repeat_instrument": EVENTS_FORM,
                        "redcap_repeat_instance": str(instance)})
            if access_groups:
                row["redcap_data_access_group"] = patient["centre"]
            _fill(row, event, layout, EVENTS_FORM, labels)
            row["events_complete"] = "Complete" if labels else "2"
            out.append(row)
    return pd.DataFrame(out, columns=columns)


def _fill(record: dict[str, str], values: dict[str, str], layout: list[tuple[str, str, str, dict[str, str]]],
          form: str, labels: bool) -> None:
    for name, f, kind, choices in layout:
        if f != form or name == "patient_id" or name.endswith(OTHER_SUFFIX):
            continue
        value = values.get(name, "")
        if kind == "checkbox":
            ticked = set(value.split(SITE_JOINER)) if value else set()
            for code, label in choices.items():
                on = label in ticked
                record[f"{name}___{code}"] = ("Checked" if on else "Unchecked") if labels else ("1" if on else "0")
            continue
        if kind in ("radio", "dropdown", "yesno"):
            cell, other = _coded(kind, choices, value, labels)
            record[name] = cell
            if other:
                record[name + OTHER_SUFFIX] = other
            continue
        record[name] = value


# ---------------------------------------------------------------------------------- ADaM
SAS_EPOCH = dt.date(1960, 1, 1)
# The sponsor-specific ADSL variables the ADaM below keeps the baseline in, as the mapping names them.
ADAM_MAPPING: dict[str, str] = {
    "PHSTAT": "ph_status", "PRIORTKI": "prior_tki_count", "CD22PCT": "cd22_pct", "DISSTAT": "disease_status",
    "SALVLINE": "salvage_line", "BLASTPCT": "blast_pct", "EMDBL": "emd_baseline", "HSCTDT": "hsct_date",
    "HSCTDTL": "hsct_detail",
}
PREFERRED_TERMS = {"VOD": "Venoocclusive liver disease", "thrombocytopenia": "Thrombocytopenia",
                   "neutropenia": "Neutropenia", "febrile neutropenia": "Febrile neutropenia",
                   "AST increased": "Aspartate aminotransferase increased",
                   "ALT increased": "Alanine aminotransferase increased",
                   "bilirubin increased": "Blood bilirubin increased"}


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _number(text: str) -> float | None:
    return float(text) if text else None


def _flag(text: str) -> str:
    return {"true": "Y", "false": "N"}.get(text, "")


def adam_datasets(patients: pd.DataFrame, events: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """ADSL, ADTTE (OS, RFS, DOR), ADRS (OVRLRESP, BOR, MRD), ADAE and ADEX (DOSE) of a cohort, as a sponsor
    would derive them (AVAL = ADT − STARTDT in days); dates as datetime.date."""
    ev = events.assign(date=events["event_date"].map(_date))
    adsl, adtte, adrs, adae, adex = [], [], [], [], []
    for p in patients.to_dict("records"):
        pid, start = p["patient_id"], _date(p["ino_start_date"])
        mine = ev[ev["patient_id"] == pid]
        kind = lambda t: mine[mine["event_type"] == t]          # noqa: E731
        deaths, lasts, relapses, hscts = kind("death"), kind("last_contact"), kind("relapse"), kind("hsct")
        death = deaths.iloc[0] if len(deaths) else None
        hsct = hscts.sort_values("date").iloc[0] if len(hscts) else None
        adsl.append({"USUBJID": pid, "SITEID": p["centre"], "SEX": p["sex"], "AGE": _number(p["age_years"]),
                     "TRTSDT": start, "DCUTDT": _date(p["data_cutoff_date"]), "SAFFL": _flag(p["safety_evaluable"]),
                     "DTHDT": None if death is None else death["date"],
                     "DTHCAUS": "" if death is None else death["cause"],
                     "PHSTAT": p["ph_status"], "PRIORTKI": _number(p["prior_tki_count"]),
                     "CD22PCT": _number(p["cd22_pct"]), "DISSTAT": p["disease_status"],
                     "SALVLINE": _number(p["salvage_line"]), "BLASTPCT": _number(p["blast_pct"]),
                     "EMDBL": _flag(p["emd_baseline"]),
                     "HSCTDT": None if hsct is None else hsct["date"], "HSCTDTL": "" if hsct is None else hsct["detail"]})
        last = lasts.sort_values("date").iloc[-1] if len(lasts) else None
        end, censored = (death["date"], 0) if death is not None else (None if last is None else last["date"], 1)
        lost = last is not None and last["followup_status"] == "lost to follow-up"

        def tte(param: str, origin: dt.date | None, stop: dt.date | None, cnsr: int, what: str) -> None:
            if origin is None or stop is None:
                return
            adtte.append({"USUBJID": pid, "PARAMCD": param, "STARTDT": origin, "ADT": stop,
                          "AVAL": float((stop - origin).days), "AVALU": "DAYS", "CNSR": float(cnsr),
                          "EVNTDESC": what if cnsr == 0 else "",
                          "CNSDTDSC": "" if cnsr == 0 else ("LOST TO FOLLOW-UP" if lost else "ALIVE AT DATA CUT-OFF")})

        tte("OS", start, end, censored, "DEATH")
        responses = kind("response")
        remission = responses[responses["response"].isin(["CR", "CRi"])]
        relapse = relapses.sort_values("date").iloc[0] if len(relapses) else None
        if relapse is not None and (death is None or relapse["date"] <= death["date"]):
            stop, cnsr = relapse["date"], 0
            what = "RELAPSE" + (f" ({relapse['relapse_site'].upper()})" if relapse["relapse_site"] else "")
        elif death is not None:
            stop, cnsr, what = death["date"], 0, "DEATH"
        else:
            stop, cnsr, what = end, 1, ""
        if len(remission):
            tte("RFS", start, stop, cnsr, what)
            tte("DOR", remission["date"].dropna().min() if remission["date"].notna().any() else None, stop, cnsr, what)
        for r in responses.to_dict("records"):
            adrs.append({"USUBJID": pid, "PARAMCD": "OVRLRESP", "AVALC": r["response"].upper(), "ADT": r["date"],
                         "AVISITN": _number(r["cycle"]), "AVISIT": f"CYCLE {r['cycle']}" if r["cycle"] else ""})
        if len(responses):
            best = remission.iloc[0]["response"] if len(remission) else "NR"
            adrs.append({"USUBJID": pid, "PARAMCD": "BOR", "AVALC": best.upper(), "ADT": None, "AVISITN": None,
                         "AVISIT": ""})
        for r in kind("mrd").to_dict("records"):
            adrs.append({"USUBJID": pid, "PARAMCD": "MRD", "AVALC": r["mrd"].upper(), "ADT": r["date"],
                         "AVISITN": _number(r["cycle"]), "AVISIT": f"CYCLE {r['cycle']}" if r["cycle"] else ""})
        for r in kind("adverse_event").to_dict("records"):
            adae.append({"USUBJID": pid, "AEDECOD": PREFERRED_TERMS.get(r["ae_term"], r["ae_term"]),
                         "AETOXGR": r["ae_grade"], "ASTDT": r["date"]})
        for r in kind("ino_dose").to_dict("records"):
            adex.append({"USUBJID": pid, "PARAMCD": "DOSE", "AVAL": _number(r["dose_mg_m2"]), "AVALU": "mg/m2",
                         "ASTDT": r["date"], "AVISITN": _number(r["cycle"]),
                         "AVISIT": f"CYCLE {r['cycle']} DAY {r['cycle_day']}"})
    return {"adsl": pd.DataFrame(adsl), "adtte": pd.DataFrame(adtte), "adrs": pd.DataFrame(adrs),
            "adae": pd.DataFrame(adae), "adex": pd.DataFrame(adex)}


def write_xpt(datasets: dict[str, pd.DataFrame], directory: Path) -> list[Path]:
    """Each dataset as a SAS transport file (XPORT version 5, what regulators take), dates with a DATE9 format."""
    import pyreadstat

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in datasets.items():
        path = directory / f"{name}.xpt"
        pyreadstat.write_xport(frame, str(path), file_format_version=5, table_name=name.upper())
        paths.append(path)
    return paths
