"""Validating the two tables against the contract's rules (core.importer.rules).

Validation runs on the file *as text* (every cell a string or None) so a problem can always show the
value exactly as the user typed it:

1. pandera checks each column on its own — present in the header, filled in where required, the
   right type (number, whole number, date as YYYY-MM-DD, true/false), allowed values, ranges, unique
   patient ids — lazily, so every failure is collected;
2. pandas checks what spans rows and files — the fields an event type needs, dates inside the
   patient's window (first InO dose … data cut-off), nothing after a death, every event's patient
   listed in the patients file.

Rows are the user's rows: 1-based, the header is row 1, so the first data row is row 2 (what a
spreadsheet shows). Every problem names file · row · column · value · what is expected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from core.contract import AE_TERMS, EVENT_TYPES, OTHER_EVENT_TYPES, UNDATED_EVENT_TYPES
from core.importer.parse import ParsedColumn, parse_columns
from core.importer.problems import ERROR, WARNING, ProblemReport
from core.importer.rules import EVENT_REQUIREMENTS, EXCEL_ERRORS, SPECS, ColumnSpec
from core.importer.table import TextTable


def _kind_ok(spec: ColumnSpec, parsed: ParsedColumn) -> pa.Check:
    """The type check: empty cells pass here (the nullable rule speaks for them)."""
    return pa.Check(lambda s: s.isna() | parsed.ok, name=spec.kind_expected(), ignore_na=False)


def _range_ok(spec: ColumnSpec, parsed: ParsedColumn) -> pa.Check:
    """The range check: only on values that parsed (a non-number is reported once, by the type check)."""
    return pa.Check(lambda s: ~parsed.outside, name=spec.range_expected(), ignore_na=False)


def _allowed_ok(spec: ColumnSpec) -> pa.Check:
    allowed = set(spec.allowed)
    return pa.Check(lambda s: s.isna() | s.isin(allowed), name=spec.allowed_expected(), ignore_na=False)



def pandera_schema(table: str, present: Sequence[str], parsed: dict[str, ParsedColumn]) -> pa.DataFrameSchema:
    """The column-by-column rules of one table, on the file as text.

    Columns that must be in the header are `required`; an optional column the file left out is not
    checked (it is filled with empty cells afterwards). Extra columns are allowed (strict=False).
    `parsed` holds each typed column already parsed (see parse_columns), so a check never parses twice.
    """
    columns: dict[str, pa.Column] = {}
    for spec in SPECS[table]:
        if not spec.in_header and spec.name not in present:
            continue
        checks: list[pa.Check] = []
        if spec.kind == "choice":
            checks.append(_allowed_ok(spec))
        elif spec.kind != "text" and spec.name in parsed:
            checks.append(_kind_ok(spec, parsed[spec.name]))
            if spec.minimum is not None or spec.maximum is not None:
                checks.append(_range_ok(spec, parsed[spec.name]))
        columns[spec.name] = pa.Column(object, checks=checks, nullable=not spec.required, unique=spec.unique,
                                       required=spec.in_header, coerce=False)
    return pa.DataFrameSchema(columns, strict=False, name=table)


@dataclass
class ValidatedCohort:
    """The outcome of validation: typed tables ready to store (None when there are errors) and the report."""

    report: ProblemReport
    patients: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    patients_extra: pd.DataFrame | None = None
    events_extra: pd.DataFrame | None = None
    extra_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report.ok and self.patients is not None and self.events is not None


def _schema_problems(table: TextTable, parsed: dict[str, ParsedColumn], report: ProblemReport) -> set[str]:
    """Run pandera (lazy: all failures at once). Returns the required columns missing from the header."""
    frame = table.frame
    _excel_errors(table, report)
    schema = pandera_schema(table.table, list(frame.columns), parsed)
    missing: set[str] = set()
    try:
        schema.validate(frame, lazy=True, inplace=True)   # no coercion: nothing to copy
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
            if check == "column_in_dataframe":
                for name in group["failure_case"]:
                    missing.add(str(name))
                    report.add(ERROR, table.file, 1, str(name), "(not in the header)",
                               f"a column named {name} in the header row (see the template)")
                continue
            spec = _spec(table.table, str(column))
            rows = [int(i) for i in group["index"]]
            if check == "not_nullable":
                expected = f"a value ({spec.kind_expected()}); this column may not be empty"
            elif check == "field_uniqueness":
                expected = f"a {column} used once (it appears on more than one row)"
            else:
                expected = str(check)
            values = [table.frame.at[i, column] for i in rows]
            report.add_many(ERROR, table.file, rows, str(column), values, expected)
    return missing


def _excel_errors(table: TextTable, report: ProblemReport) -> None:
    """Excel error values (#N/A, #VALUE!, …) pasted as text: reported once; the other checks skip the cell."""
    found = table.frame.isin(EXCEL_ERRORS)
    if not found.to_numpy().any():
        return
    for column in table.frame.columns[found.any(axis=0).to_numpy()]:
        rows = table.frame.index[found[column].to_numpy()]
        report.add_many(ERROR, table.file, rows, column, table.frame.loc[rows, column],
                        "a value, not an Excel error (fix the formula in your source sheet)")
        for row in rows:
            report.claim(table.file, int(row), column)


def _spec(table: str, name: str) -> ColumnSpec:
    return next(s for s in SPECS[table] if s.name == name)


def _typed(table: TextTable, parsed: dict[str, ParsedColumn]) -> pd.DataFrame:
    """Contract columns as their types (values that did not parse become missing; they were reported)."""
    out = pd.DataFrame(index=table.frame.index)
    for spec in SPECS[table.table]:
        if spec.name not in table.frame.columns:
            out[spec.name] = pd.Series(None, index=table.frame.index, dtype=object)
            continue
        if spec.kind in ("text", "choice"):
            raw = table.frame[spec.name]
            value = raw.where(raw.notna() & ~raw.isin(EXCEL_ERRORS), None).astype(object)
            if spec.kind == "choice":
                value = value.where(value.isin(set(spec.allowed)), None)
        else:
            column = parsed[spec.name]
            value = column.values
            if column.outside.any():
                value = value.where(~column.outside, None if value.dtype == object else pd.NA)
        out[spec.name] = value
    return out


def _extra_columns(table: TextTable, report: ProblemReport) -> tuple[str, ...]:
    known = {s.name for s in SPECS[table.table]}
    extras = tuple(c for c in table.frame.columns if c not in known)
    for name in extras:
        report.add(WARNING, table.file, 1, name, name,
                   f"a column of the {table.table} template; unknown columns are kept (table "
                   f"{table.table}_extra) but not used by any view — check the spelling if it was meant as one")
    left_out = [s for s in SPECS[table.table] if not s.in_header and s.name not in table.frame.columns]
    if left_out:
        names = ", ".join(s.name for s in left_out)
        meanings = "; ".join(f"{s.name} = {s.empty_means}" for s in left_out if s.empty_means)
        report.add(WARNING, table.file, 1, names, "(not in the header)",
                   "optional columns; left out, so every value is taken as missing"
                   + (f" ({meanings})" if meanings else ""))
    return extras


def validate_tables(patients: TextTable, events: TextTable, report: ProblemReport | None = None, *,
                    today: dt.date | None = None) -> ValidatedCohort:
    """Every check on the two tables; typed frames come back only when there is no error.

    `today` (default: the date now) is when a date counts as in the future (a warning).
    """
    report = report if report is not None else ProblemReport()
    today = today or dt.date.today()
    extras = {"patients": _extra_columns(patients, report), "events": _extra_columns(events, report)}
    parsed_p = parse_columns("patients", patients.frame)
    parsed_e = parse_columns("events", events.frame)
    absent_p = _schema_problems(patients, parsed_p, report)
    absent_e = _schema_problems(events, parsed_e, report)
    typed_p = _typed(patients, parsed_p)
    typed_e = _typed(events, parsed_e)
    _check_plausible(patients, typed_p, report, today)
    _check_plausible(events, typed_e, report, today)
    _check_patients(patients, typed_p, absent_p, report)
    _check_events(events, typed_e, absent_e, report)
    _check_across(patients, typed_p, absent_p, events, typed_e, absent_e, report)
    if not ({"patient_id"} & absent_p) and not ({"patient_id", "event_type"} & absent_e):
        check_follow_up(patients, typed_p, typed_e, report)
    result = ValidatedCohort(report=report, extra_columns=extras)
    if report.ok:
        result.patients = _store_ready(typed_p, patients.table)
        result.events = _store_ready(typed_e, events.table)
        result.patients_extra = _extras_frame(patients, extras["patients"], ("patient_id",))
        result.events_extra = _extras_frame(events, extras["events"], ("patient_id", "event_type", "event_date"))
    return result


def _check_plausible(table: TextTable, typed: pd.DataFrame, report: ProblemReport, today: dt.date) -> None:
    """Values the contract accepts but that are likely typing slips: dates in the future, a salvage line of
    2147483647. They are kept (the import goes ahead) with a warning naming the cell."""
    for spec in SPECS[table.table]:
        if spec.name not in table.frame.columns:
            continue
        values = typed[spec.name]
        if spec.kind == "date":
            later = values.notna() & (values.where(values.notna(), dt.date.min) > today)
            rows = typed.index[later.to_numpy(dtype=bool)]
            report.add_many(WARNING, table.file, rows, spec.name, table.frame.loc[rows, spec.name],
                            f"a date no later than today ({today.isoformat()}); a date in the future is kept, "
                            "but check the year")
        elif spec.plausible_maximum is not None:
            numbers = values.to_numpy(dtype="float64", na_value=np.nan)
            with np.errstate(invalid="ignore"):
                high = numbers > spec.plausible_maximum
            rows = typed.index[high]
            report.add_many(WARNING, table.file, rows, spec.name, table.frame.loc[rows, spec.name],
                            f"a value up to {spec.plausible_maximum:g}; a higher {spec.name} is kept, but check "
                            "it for a typing slip")


def _check_patients(table: TextTable, typed: pd.DataFrame, absent: set[str], report: ProblemReport) -> None:
    if {"ino_start_date", "data_cutoff_date"} & absent:
        return
    start, cutoff = typed["ino_start_date"], typed["data_cutoff_date"]
    both = start.notna() & cutoff.notna()
    bad = both & (cutoff.where(both, dt.date.min) < start.where(both, dt.date.min))
    rows = typed.index[bad]
    report.add_many(ERROR, table.file, rows, "data_cutoff_date", table.frame.loc[rows, "data_cutoff_date"],
                    [f"a date on or after ino_start_date ({start[r].isoformat()})" for r in rows])


def _check_events(table: TextTable, typed: pd.DataFrame, absent: set[str], report: ProblemReport) -> None:
    raw = table.frame
    if "event_type" in absent:
        return
    etype = raw["event_type"]
    known = set(EVENT_TYPES)
    lower_known = {t.lower(): t for t in EVENT_TYPES}
    unknown = etype.notna() & ~etype.isin(known | set(OTHER_EVENT_TYPES))
    if unknown.any():
        near = etype[unknown].map(lambda v: lower_known.get(str(v).strip().lower().replace(" ", "_")))
        miscased = near.notna()
        rows = near.index[miscased]
        report.add_many(ERROR, table.file, rows, "event_type", etype[rows],
                        [f"{near[r]} (lower case, exactly as the dictionary spells it)" for r in rows])
        rows = near.index[~miscased]
        report.add_many(WARNING, table.file, rows, "event_type", etype[rows],
                        "one of: " + ", ".join(EVENT_TYPES) + " — other types are kept but ignored by the endpoints")
    if "event_date" not in absent:
        no_date = raw["event_date"].isna() & etype.notna() & ~etype.isin(UNDATED_EVENT_TYPES)
        rows = raw.index[no_date]
        report.add_many(ERROR, table.file, rows, "event_date", [None] * len(rows),
                        "a date written YYYY-MM-DD (only response and mrd rows may leave it empty)")
    for event_type, column, severity, expected in EVENT_REQUIREMENTS:
        if column not in raw.columns:
            # the whole optional column is missing: one problem per row that needs it
            needs = raw.index[etype == event_type]
        else:
            needs = raw.index[(etype == event_type) & raw[column].isna()]
        report.add_many(severity, table.file, needs, column, [None] * len(needs), expected)
    if "ae_term" in raw.columns:
        _check_spelling(table, raw["ae_term"], AE_TERMS, "ae_term", report)


def _check_spelling(table: TextTable, values: pd.Series, terms: Sequence[str], column: str,
                    report: ProblemReport) -> None:
    """A value equal to a counted term but for case/spaces would be silently missed by the endpoints."""
    canon = {" ".join(t.lower().split()): t for t in terms}
    candidates = values.notna() & ~values.isin(set(terms))
    near = values[candidates].map(lambda v: canon.get(" ".join(str(v).lower().split())))
    rows = near.index[near.notna()]
    report.add_many(ERROR, table.file, rows, column, values[rows],
                    [f"{near[r]} (spelt exactly so, or the endpoints will not count it)" for r in rows])


def _check_across(patients: TextTable, typed_p: pd.DataFrame, absent_p: set[str], events: TextTable,
                  typed_e: pd.DataFrame, absent_e: set[str], report: ProblemReport) -> None:
    if "patient_id" in absent_p or "patient_id" in absent_e:
        return
    ids = typed_p["patient_id"]
    first = ~ids.duplicated(keep="first") & ids.notna()
    by_id = typed_p[first].set_index("patient_id", drop=False)
    ev_id = typed_e["patient_id"]
    listed = ev_id.isin(set(by_id.index))
    rows = typed_e.index[ev_id.notna() & ~listed]
    report.add_many(ERROR, events.file, rows, "patient_id", events.frame.loc[rows, "patient_id"],
                    f"a patient_id listed in {patients.file}")

    if "event_date" in absent_e:
        return
    date = typed_e["event_date"]
    dated = listed & date.notna()
    if not {"ino_start_date", "data_cutoff_date"} & absent_p:
        start = ev_id.map(by_id["ino_start_date"])
        cutoff = ev_id.map(by_id["data_cutoff_date"])
        has_start = dated & start.notna()
        before = has_start & (date.where(has_start, dt.date.min) < start.where(has_start, dt.date.min))
        rows = typed_e.index[before]
        report.add_many(ERROR, events.file, rows, "event_date", events.frame.loc[rows, "event_date"],
                        [f"a date on or after the patient's first InO dose (ino_start_date {start[r].isoformat()})"
                         for r in rows])
        has_cut = dated & cutoff.notna()
        after = has_cut & (date.where(has_cut, dt.date.max) > cutoff.where(has_cut, dt.date.max))
        rows = typed_e.index[after]
        report.add_many(ERROR, events.file, rows, "event_date", events.frame.loc[rows, "event_date"],
                        [f"a date on or before the patient's data_cutoff_date ({cutoff[r].isoformat()})"
                         for r in rows])

    if "event_type" in absent_e:
        return
    etype = typed_e["event_type"]
    deaths = typed_e[listed & (etype == "death") & date.notna()]
    if deaths.empty:
        return
    order = deaths.assign(_row=deaths.index).sort_values(["event_date", "_row"])
    first_death = order.drop_duplicates("patient_id", keep="first")
    again = order.index.difference(first_death.index)
    death_row = pd.Series(first_death.index, index=first_death["patient_id"])
    death_date = pd.Series(first_death["event_date"].to_numpy(), index=first_death["patient_id"])
    rows = sorted(again)
    report.add_many(ERROR, events.file, rows, "event_type", events.frame.loc[rows, "event_type"],
                    [f"one death row per patient (this patient's death is already on row "
                     f"{death_row[typed_e.at[r, 'patient_id']]})" for r in rows])
    when = ev_id.map(death_date)
    has = dated & when.notna()
    late = has & (date.where(has, dt.date.min) > when.where(has, dt.date.max))
    late &= ~typed_e.index.isin(again)
    rows = typed_e.index[late]
    report.add_many(ERROR, events.file, rows, "event_date", events.frame.loc[rows, "event_date"],
                    [f"nothing after the patient's death on {when[r].isoformat()} "
                     f"(row {death_row[typed_e.at[r, 'patient_id']]})" for r in rows])


def check_follow_up(patients: TextTable, typed_p: pd.DataFrame, typed_e: pd.DataFrame,
                    report: ProblemReport) -> None:
    """Warnings for patients whose OS cannot be computed (no death, no last_contact row)."""
    ids = typed_p["patient_id"]
    ended = set(typed_e.loc[typed_e["event_type"].isin(("death", "last_contact")), "patient_id"])
    rows = typed_p.index[ids.notna() & ~ids.isin(ended)]
    report.add_many(WARNING, patients.file, rows, "patient_id", ids[rows],
                    "a death or last_contact row in the events file for this patient (without one, overall "
                    "survival leaves the patient out)")


def _store_ready(typed: pd.DataFrame, table: str) -> pd.DataFrame:
    out = typed.reset_index(drop=True).copy()
    if table == "patients":
        out["safety_evaluable"] = out["safety_evaluable"].astype("boolean").fillna(True)
    for spec in SPECS[table]:
        if spec.kind == "boolean":
            out[spec.name] = out[spec.name].astype(object).where(out[spec.name].notna(), None)
    return out


def _extras_frame(table: TextTable, extras: Sequence[str], keys: Sequence[str]) -> pd.DataFrame | None:
    """Unknown columns, kept as text next to the row they came from (source_row = the file's row)."""
    if not extras:
        return None
    frame = pd.DataFrame({"source_row": table.frame.index.astype("int64")})
    for key in keys:
        frame[key] = table.frame[key].to_numpy() if key in table.frame.columns else None
    for name in extras:
        column = name
        while column in frame.columns:
            column = f"{column}_extra"
        frame[column] = table.frame[name].to_numpy()
    return frame
