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
