"""Importing a REDCap project's records: its flat CSV export, decoded with its data dictionary.

    result = import_redcap(InputFile.from_path("records.csv"), InputFile.from_path("dictionary.csv"),
                           label="Centre X 2024")

The records export is REDCap's flat CSV ("CSV / Microsoft Excel (raw data)", or with labels for the
values; the column headers are the variable names either way). A record's row without a repeat
instrument holds the patient's fields; each row of the repeating `events` instrument
(redcap_repeat_instrument = events, redcap_repeat_instance = 1, 2, …) is one event. Choices are
read as their code or their label, checkboxes from their `field___code` columns (several sites are
joined with "+"), yes/no as true/false, and "other" from the `<field>_other` text. The data access
group (redcap_data_access_group) is the centre when the record has no centre field of its own.
Fields of the project outside the contract are kept, as for any import; a column the dictionary
does not define is an error (the records and the dictionary must come from the same project).

The tables then go through the same validation, limits and atomic write as every import; problems
name the records file (its patient rows and event rows), the row and the REDCap field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from core.importer.files import InputFile
from core.importer.origins import TableOrigins, relay_problems
from core.importer.problems import ERROR, WARNING, ProblemReport
from core.importer.read import read_csv_table
from core.importer.redcap_dictionary import (
    OTHER_LABEL,
    OTHER_SUFFIX,
    SITE_JOINER,
    RedcapDictionary,
    RedcapField,
    read_redcap_dictionary,
)
from core.importer.rules import SPECS
from core.importer.table import TextTable
from core.importer.validate import ValidatedCohort, validate_tables
from core.importer.write import ImportResult, check_label, write_import

REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
ACCESS_GROUP = "redcap_data_access_group"
EVENT_NAME = "redcap_event_name"
SYSTEM_COLUMNS = frozenset({REPEAT_INSTRUMENT, REPEAT_INSTANCE, ACCESS_GROUP, EVENT_NAME,
                            "redcap_survey_identifier"})
CHECKED = frozenset({"1", "checked"})
UNCHECKED = frozenset({"0", "unchecked"})
TRUE_LABELS = frozenset({"yes", "true"})


def _labels(files: Sequence[InputFile]) -> str:
    return " + ".join(f.name for f in files) + " (REDCap)"


def check_redcap_files(records: InputFile, dictionary: InputFile, report: ProblemReport | None = None, *,
                       today: dt.date | None = None) -> ValidatedCohort:
    """Read the dictionary and the records, decode them into the contract's tables, validate; write nothing."""
    from core.importer import _collector_paused, read_limits

    report = report if report is not None else ProblemReport()
    limits = read_limits()
    with _collector_paused():
        fields = read_redcap_dictionary(dictionary, report, limits)
        table = read_csv_table(records, "patients", report, limits)
        if fields is None or table is None:
            return ValidatedCohort(report=report)
        built = redcap_tables(table, fields, report)
        if built is None:
            return ValidatedCohort(report=report)
        patients, events, origins = built
        found = ProblemReport()
        validated = validate_tables(patients, events, found, today=today)
        relay_problems(found, report, origins)
        validated.report = report
        return validated


def import_redcap(records: InputFile, dictionary: InputFile, label: str, *, source: str = "",
                  directory: Path | None = None, now: dt.datetime | None = None) -> ImportResult:
    """Validate, then (only if there is no error) write a new cohort file. Never raises on bad input."""
    report = ProblemReport()
    clean = check_label(label, report)
    validated = check_redcap_files(records, dictionary, report)
    return write_import(validated, report, label=clean, files=_labels((records, dictionary)), source=source,
                        directory=directory, now=now)


# ---------------------------------------------------------------------------------- records → tables
def _known_columns(fields: RedcapDictionary) -> dict[str, tuple[RedcapField, str | None]]:
    """Every column an export of this project may have → (its field, the checkbox code or None)."""
    known: dict[str, tuple[RedcapField, str | None]] = {}
    for f in fields.fields:
        if f.field_type == "checkbox":
            for code in f.choices:
                known[f.checkbox_column(code)] = (f, code)
        elif f.field_type != "descriptive":
            known[f.name.lower()] = (f, None)
    return known


def _check_header(table: TextTable, fields: RedcapDictionary, report: ProblemReport) -> bool:
    known = _known_columns(fields)
    forms = set(fields.forms)
    ok = True
    for column in table.frame.columns:
        if column in known or column in SYSTEM_COLUMNS:
            continue
        form, _, suffix = column.rpartition("_")
        if suffix in ("complete", "timestamp") and form in forms:
            continue
        report.add(ERROR, table.file, 1, column, column,
                   f"a field of the data dictionary {fields.file} (export the records and the dictionary from "
                   "the same project, with the variable names as column headers)")
        ok = False
    if fields.record_id.lower() not in table.frame.columns:
        report.add(ERROR, table.file, 1, fields.record_id, "(not in the header)",
                   f"the record id {fields.record_id} (the dictionary's first field) as the first column")
        ok = False
    return ok


def _decode_choice(f: RedcapField, raw: pd.Series, file: str, report: ProblemReport) -> pd.Series:
    """Codes and labels → labels; anything else is reported and left empty."""
    by_label = {label: label for label in f.choices.values()}
    by_folded = {label.casefold(): label for label in f.choices.values()}
    lookup = {**by_label, **f.choices}
    decoded = raw.map(lambda v: None if v is None else lookup.get(v, by_folded.get(v.casefold())))
    bad = raw.notna() & decoded.isna()
    if bad.any():
        listed = ", ".join(f"{code} ({label})" for code, label in f.choices.items())
        report.add_many(ERROR, file, raw.index[bad], f.name, raw[bad],
                        f"one of the choices of {f.name} in the data dictionary, as its code or its label: {listed}")
    return decoded.astype(object)


def _decode_yes_no(f: RedcapField, raw: pd.Series, file: str, report: ProblemReport) -> pd.Series:
    labels = _decode_choice(f, raw, file, report)
    return labels.map(lambda v: None if v is None else ("true" if v.casefold() in TRUE_LABELS else "false"))


def _decode_checkbox(f: RedcapField, frame: pd.DataFrame, file: str, report: ProblemReport) -> pd.Series:
    """The `field___code` columns → the checked labels joined with "+" (None when none is checked)."""
    checked: list[pd.Series] = []
    for code, label in f.choices.items():
        column = f.checkbox_column(code)
        if column not in frame.columns:
            continue
        raw = frame[column]
        folded = raw.map(lambda v: None if v is None else v.casefold())
        bad = folded.notna() & ~folded.isin(CHECKED | UNCHECKED)
        if bad.any():
            report.add_many(ERROR, file, raw.index[bad], column, raw[bad],
                            "1 or Checked when the box is ticked, 0 or Unchecked (or empty) when not")
        checked.append(folded.isin(CHECKED).map(lambda on, label=label: label if on else None))
    if not checked:
        return pd.Series(None, index=frame.index, dtype=object)
    joined = pd.concat(checked, axis=1).apply(lambda row: SITE_JOINER.join(v for v in row if v) or None, axis=1)
    return joined.astype(object)


def _decode(f: RedcapField, frame: pd.DataFrame, file: str, report: ProblemReport) -> pd.Series:
    if f.field_type == "checkbox":
        return _decode_checkbox(f, frame, file, report)
    raw = frame[f.name.lower()] if f.name.lower() in frame.columns else pd.Series(None, index=frame.index,
                                                                                 dtype=object)
    if f.field_type in ("yesno", "truefalse"):
        return _decode_yes_no(f, raw, file, report)
    if f.choices:
        return _decode_choice(f, raw, file, report)
    return raw


def _present(f: RedcapField, frame: pd.DataFrame) -> bool:
    if f.field_type == "checkbox":
        return any(f.checkbox_column(code) in frame.columns for code in f.choices)
    return f.name.lower() in frame.columns


def _with_other(column: str, values: pd.Series, frame: pd.DataFrame, file: str, report: ProblemReport) -> pd.Series:
    """'other' chosen → the `<column>_other` text; an empty one is reported."""
    other_column = column + OTHER_SUFFIX
    if other_column not in frame.columns:
        return values
    other = frame[other_column]
    chose = values.map(lambda v: v is not None and v.casefold() == OTHER_LABEL)
    missing = chose & other.isna()
    report.add_many(ERROR, file, values.index[missing], other_column, [None] * int(missing.sum()),
                    f"the {column} written out ({column} says {OTHER_LABEL})")
    return values.where(~chose, other).astype(object)


def _table(name: str, file: str, rows: pd.Index, fields: Sequence[RedcapField], decoded: dict[str, pd.Series],
           record_ids: pd.Series) -> TextTable:
    data: dict[str, pd.Series] = {"patient_id": record_ids.loc[rows]}
    for f in fields:
        data[f.name.lower()] = decoded[f.name].loc[rows]
    frame = pd.DataFrame(data, index=rows)
    frame.index.name = "row"
    return TextTable(table=name, file=file, frame=frame)


def redcap_tables(table: TextTable, fields: RedcapDictionary, report: ProblemReport
                  ) -> tuple[TextTable, TextTable, dict[str, TableOrigins]] | None:
    """The records export → the contract's patients and events tables (each row keeps its records row),
    and how their columns are named in the export; None after problem rows when the export cannot be read."""
    if not _check_header(table, fields, report):
        return None
    frame = table.frame
    by_name = fields.by_name()
    event_type = by_name.get("event_type")
    if event_type is None:
        report.add(ERROR, fields.file, None, "event_type", "(no such field)",
                   "the events form's field event_type (the form the contract's REDCap dictionary defines)")
        return None
    events_form = event_type.form
    record_id = fields.record_id
    consumed = {f"{s.name}{OTHER_SUFFIX}" for t in SPECS.values() for s in t if s.suggested}
    errors_before = report.n_errors
    decoded = {f.name: _decode(f, frame, table.file, report) for f in fields.fields
               if f.name != record_id and f.field_type != "descriptive" and _present(f, frame)}
    for spec in (s for t in SPECS.values() for s in t if s.suggested):
        if spec.name in decoded:
            decoded[spec.name] = _with_other(spec.name, decoded[spec.name], frame, table.file, report)
    if report.n_errors > errors_before:
        return None

    def own(form_is_events: bool) -> list[RedcapField]:
        return [f for f in fields.fields if f.name in decoded and f.name not in consumed
                and (f.form == events_form) == form_is_events]

    patient_fields, event_fields = own(False), own(True)
    instrument = frame[REPEAT_INSTRUMENT] if REPEAT_INSTRUMENT in frame.columns else pd.Series(None, index=frame.index)
    instance = frame[REPEAT_INSTANCE] if REPEAT_INSTANCE in frame.columns else pd.Series(None, index=frame.index)
    unknown = instrument.notna() & ~instrument.isin(set(fields.forms))
    if unknown.any():
        report.add_many(ERROR, table.file, frame.index[unknown], REPEAT_INSTRUMENT, instrument[unknown],
                        "the name of a form in the data dictionary (" + ", ".join(fields.forms) + ")")
        return None

    def filled(group: Sequence[RedcapField]) -> pd.Series:
        if not group:
            return pd.Series(False, index=frame.index)
        return pd.concat([decoded[f.name].notna() for f in group], axis=1).any(axis=1)

    main_row = instrument.isna() & instance.isna()
    patient_rows = main_row & (filled(patient_fields) if EVENT_NAME in frame.columns else True)
    event_rows = (instrument == events_form) | (instrument.isna() & filled(event_fields))
    others = instrument.notna() & (instrument != events_form)
    if others.any():
        report.add(WARNING, table.file, int(frame.index[others][0]), REPEAT_INSTRUMENT, instrument[others].iloc[0],
                   f"rows of the repeating form {events_form}; {int(others.sum())} rows of other repeating forms "
                   "are not read")

    record_ids = frame[record_id.lower()]
    centre = _centre(decoded, frame)
    if centre is not None:
        decoded["centre"] = centre
        if "centre" not in by_name:
            patient_fields.append(RedcapField(name="centre", form="", field_type="text"))
    if not patient_rows.any() or not event_rows.any():
        what = "patient" if not patient_rows.any() else "event"
        report.add(ERROR, table.file, 2, REPEAT_INSTRUMENT, f"(no {what} rows)",
                   f"each record's row of the patient fields (no repeat instrument) and one row of the repeating "
                   f"form {events_form} per event")
        return None
    patients = _table("patients", f"{table.file} (patient rows)", frame.index[patient_rows.to_numpy(dtype=bool)],
                      patient_fields, decoded, record_ids)
    events = _table("events", f"{table.file} (event rows)", frame.index[event_rows.to_numpy(dtype=bool)],
                    event_fields, decoded, record_ids)
    renamed = {"patient_id": record_id} if record_id != "patient_id" else {}
    origins = {t.file: TableOrigins(label=t.file, columns=renamed) for t in (patients, events)}
    return patients, events, origins


def _centre(decoded: dict[str, pd.Series], frame: pd.DataFrame) -> pd.Series | None:
    """The centre field where filled, else the record's data access group."""
    if ACCESS_GROUP not in frame.columns:
        return None
    group = frame[ACCESS_GROUP]
    if "centre" not in decoded:
        return group
    return decoded["centre"].where(decoded["centre"].notna(), group).astype(object)
