"""Reading a cohort's own rows back out, e.g. to export it in the import format.

No SQL text: DuckDB's relational API reads a whole table by name, and the name is chosen from a
whitelist ({"patients", "events"}), never from user input.
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pandas as pd

from core.contract import EVENT_COLUMNS, PATIENT_COLUMNS
from core.database import Cohort, CohortError

CONTRACT_TABLES: dict[str, tuple[str, ...]] = {"patients": PATIENT_COLUMNS, "events": EVENT_COLUMNS}


def _table_name(table: str) -> str:
    if table not in CONTRACT_TABLES:
        raise ValueError(f"table must be one of {sorted(CONTRACT_TABLES)}, not {table!r}")
    return table


def fetch_table_rows(cohort: Cohort, table: str) -> pd.DataFrame:
    """Every row of `patients` or `events`, the contract's columns in the contract's order."""
    name = _table_name(table)
    try:
        with cohort.cursor() as cur:
            frame = cur.table(name).df()
    except Exception as exc:  # duckdb.Error and friends
        raise CohortError(f"The {name} table of {cohort.path.name} could not be read: {exc}",
                          hint="Check that the file follows the data contract (see the data dictionary).") from exc
    missing = [c for c in CONTRACT_TABLES[name] if c not in frame.columns]
    if missing:
        raise CohortError(f"The {name} table of {cohort.path.name} has no column {missing[0]!r}.",
                          hint="A cohort needs the data contract's columns (see the data dictionary).")
    if name == "patients":
        frame = frame.sort_values("patient_id", kind="stable")
    return frame.loc[:, list(CONTRACT_TABLES[name])].reset_index(drop=True)


EXTRA_TABLES = ("patients_extra", "events_extra")


def fetch_extra_rows(cohort: Cohort, table: str) -> pd.DataFrame | None:
    """The columns an import kept beside `patients` or `events` (None when the cohort has none)."""
    name = {"patients": "patients_extra", "events": "events_extra"}[_table_name(table)]
    try:
        with cohort.cursor() as cur:
            return cur.table(name).df()
    except duckdb.CatalogException:     # no such table: the import kept nothing
        return None


def count_table_rows(cohort: Cohort, table: str) -> int:
    name = _table_name(table)
    try:
        with cohort.cursor() as cur:
            return int(cur.table(name).shape[0])
    except Exception as exc:
        raise CohortError(f"The {name} table of {cohort.path.name} could not be counted: {exc}") from exc


def format_cell(value: object) -> str:
    """One value as the import format writes it: dates YYYY-MM-DD, true/false, whole numbers without .0."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if hasattr(value, "item"):          # numpy scalars
        return format_cell(value.item())
    return str(value)


def to_import_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A typed table → every cell as the text the importer reads (what the CSV template holds)."""
    return frame.astype(object).apply(lambda column: column.map(format_cell))


def export_import_format(cohort: Cohort) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(patients, events) of a cohort as text tables in the import format; write them with to_csv(index=False)."""
    return (to_import_text(fetch_table_rows(cohort, "patients")),
            to_import_text(fetch_table_rows(cohort, "events")))
