"""Writing a cohort file: the schema, the rows, the per-patient summary, then an atomic rename.

A cohort is written to a temporary file beside its destination and renamed into place only once
it is complete, so a reader never sees a half-written cohort and a failed write leaves whatever
was there before untouched.

Besides the contract's tables, the file gets `patient_summary`: the option-independent
per-patient derivation of `core.queries` (the same SQL the engine would otherwise run on every
query), computed once from the rows just written. See `core.derivation.write_patient_summary`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd

from core.atomic import write_atomically
from core.contract import EVENT_COLUMNS, PATIENT_COLUMNS, SCHEMA_PATH
from core.derivation import write_patient_summary


def write_cohort_file(path: str | Path, patients: pd.DataFrame, events: pd.DataFrame,
                      meta: Mapping[str, str], *, extra_tables: Mapping[str, pd.DataFrame] | None = None) -> Path:
    """Write a complete cohort file at `path`, atomically. Returns the path.

    `extra_tables` (name → frame) are stored beside the contract's tables in the same file, e.g. the
    columns an import kept that the contract does not know (`patients_extra`, `events_extra`).
    """

    def write(tmp: Path) -> None:
        con = duckdb.connect(str(tmp))
        try:
            con.execute(SCHEMA_PATH.read_text())
            patient_rows = patients.loc[:, list(PATIENT_COLUMNS)]
            event_rows = events.loc[:, list(EVENT_COLUMNS)]
            con.register("patient_rows", patient_rows)
            con.register("event_rows", event_rows)
            con.execute(f"INSERT INTO patients SELECT {', '.join(PATIENT_COLUMNS)} FROM patient_rows "
                        "ORDER BY patient_id")
            con.execute(f"INSERT INTO events SELECT {', '.join(EVENT_COLUMNS)} FROM event_rows")
            con.executemany("INSERT INTO study_meta VALUES (?, ?)", [(str(k), str(v)) for k, v in meta.items()])
            write_patient_summary(con)
            for name, frame in (extra_tables or {}).items():
                # the relational API creates the table: the name never enters SQL text
                con.from_df(frame.astype(object).where(frame.notna(), None)).create(name)
            con.execute("CHECKPOINT")
        finally:
            con.close()

    return write_atomically(path, write)


# ------------------------------------------------------------------------------ Parquet
PARQUET_TABLES = ("patients", "events", "study_meta", "patient_summary", "patient_summary_meta")


def _string_literal(text: str) -> str:
    """A SQL string literal. Only for file locations in a view's definition, where DuckDB stores
    the query text and so cannot take a bound parameter; never for a filter value."""
    if "\x00" in text:
        raise ValueError("a location cannot contain a NUL character")
    return "'" + text.replace("'", "''") + "'"


def write_parquet_cohort(source: str | Path, out_dir: str | Path, *, location: str | None = None) -> Path:
    """Copy a cohort file's tables to `out_dir/<table>.parquet` and write `out_dir/cohort.duckdb`,
    a cohort file whose tables are views over those Parquet files; returns its path.

    `location` is where the views read the files from (default `out_dir`; e.g. `s3://bucket/ino`
    once the files are uploaded there). The views file is a few kilobytes and opens like any
    cohort; the patient summary is copied too, so the engine reads it instead of deriving it.
    """
    source, out_dir = Path(source), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = (location or str(out_dir.resolve())).rstrip("/")
    with duckdb.connect(str(source), read_only=True) as con:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        tables = [t for t in PARQUET_TABLES if t in present]
        for table in tables:
            # the relational API writes the file: no path inside SQL text
            con.table(table).write_parquet(str(out_dir / f"{table}.parquet"))

    def write(tmp: Path) -> None:
        with duckdb.connect(str(tmp)) as con:
            for table in tables:
                con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet("
                            f"{_string_literal(f'{base}/{table}.parquet')})")

    return write_atomically(out_dir / "cohort.duckdb", write)
