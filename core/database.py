"""Opening a cohort file: one read-only DuckDB connection per process, a cursor per query.

Streamlit serves sessions from threads. A DuckDB connection used from several threads at once
is not safe, but cursors taken from one connection are (each is its own connection to the same
database), so every query takes a fresh cursor.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb


class CohortError(Exception):
    """A problem with a cohort file, phrased for the user, with a hint on what to do."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


REQUIRED_TABLES = ("patients", "events")


@dataclass
class Cohort:
    """A cohort DuckDB file opened read-only."""

    path: Path
    connection: duckdb.DuckDBPyConnection
    _lock: threading.Lock

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # Taking the cursor is the only step that touches the shared connection.
        with self._lock:
            cur = self.connection.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        self.connection.close()


def open_cohort(path: str | Path) -> Cohort:
    """Open a cohort file read-only and check that it has the contract's tables."""
    path = Path(path)
    if not path.exists():
        raise CohortError(f"Cohort file {path} does not exist.", hint="Build it with `python -m data.build_db`.")
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise CohortError(f"Cohort file {path} could not be opened: {exc}",
                          hint="Is another program writing to it?") from exc
    tables = {row[0] for row in connection.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        connection.close()
        raise CohortError(f"Cohort file {path} has no table {missing[0]!r}.",
                          hint="A cohort needs the tables patients and events (see the data dictionary).")
    return Cohort(path=path, connection=connection, _lock=threading.Lock())
