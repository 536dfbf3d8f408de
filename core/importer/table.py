"""One table as the user wrote it: raw rows (row 1 = the header) → a TextTable of data rows.

Every cell is kept as text (stripped), or None when empty or a missing-value word (NA, NULL, …), so a
problem can always quote the value exactly as typed. The header names the columns; blank rows are
skipped but keep their numbers (rows are numbered as a spreadsheet shows them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.importer.problems import ERROR, ProblemReport
from core.importer.limits import MAX_ROWS
from core.importer.rules import MISSING_TEXT, SPECS



@dataclass
class TextTable:
    """One table as the user wrote it: every cell a stripped string or None; index = the file's row."""

    table: str                 # "patients" | "events"
    file: str                  # how problems name it: "events.csv" or "cohort.xlsx (sheet events)"
    frame: pd.DataFrame




def _clean_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Every cell → stripped text, or None when empty or a missing-value word (NA, NULL, …)."""
    if raw.empty:
        return raw.astype(object)
    text = np.strings.strip(raw.where(raw.notna(), "").to_numpy(dtype=str))
    empty = (text == "") | np.isin(text, np.array(sorted(MISSING_TEXT)))
    values = text.astype(object)
    values[empty] = None
    return pd.DataFrame(values, index=raw.index, columns=raw.columns, dtype=object)


def _header_name(cell: object) -> str:
    text = "" if cell is None or (isinstance(cell, float) and pd.isna(cell)) else str(cell)
    return text.replace("\ufeff", "").strip().lower()


def table_from_raw(raw: pd.DataFrame, table: str, file: str, report: ProblemReport,
                   max_rows: int = MAX_ROWS) -> TextTable | None:
    """Cells as read (row 1 = the header; index = the file's row numbers) → a TextTable of data rows.

    Blank rows are skipped but keep their numbers; trailing columns with neither a name nor a value
    (what spreadsheets leave behind) are dropped quietly.
    """
    if raw.empty or raw.iloc[0].map(_header_name).eq("").all():
        report.add(ERROR, file, 1, "", "(no header)",
                   f"the header row of the {table} table in row 1 (column names as in the template)")
        return None
    header = [_header_name(v) for v in raw.iloc[0]]
    body = _clean_frame(raw.iloc[1:])
    body = body[body.notna().any(axis=1)]
    if len(body) > max_rows:
        report.add(ERROR, file, int(body.index[max_rows]), "", f"more than {max_rows:,} rows",
                   f"at most {max_rows:,} data rows per table")
        return None
    keep: list[int] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name == "":
            if body.iloc[:, i].notna().any():
                report.add(ERROR, file, 1, f"column {i + 1}", "(no name)",
                           "a column name in the header for every column that holds values")
            continue
        if name in seen:
            report.add(ERROR, file, 1, name, name,
                       f"each column once (also column {seen[name] + 1}); the repeat is ignored")
            continue
        seen[name] = i
        keep.append(i)
    frame = body.iloc[:, keep].copy()
    frame.columns = [header[i] for i in keep]
    frame.index = pd.Index(frame.index.astype("int64"), name="row")
    if frame.empty:
        report.add(ERROR, file, 2, "", "(no data rows)", f"at least one {table[:-1]} row under the header")
        _hint_header_row(raw, table, file, report)
        return None
    if not any(s.name in frame.columns for s in SPECS[table] if s.in_header):
        _hint_header_row(raw, table, file, report)
    return TextTable(table=table, file=file, frame=frame)


def _hint_header_row(raw: pd.DataFrame, table: str, file: str, report: ProblemReport) -> None:
    """When the column names sit lower down (a title above the table), say where."""
    wanted = {s.name for s in SPECS[table] if s.in_header}
    for row_number, record in raw.iloc[1:20].iterrows():
        if len(wanted & {_header_name(v) for v in record}) >= 2:
            report.add(ERROR, file, int(row_number), "", "(column names found here)",
                       "the column names in row 1: delete the rows above the header")
            return


def _raw_frame(records: Sequence[Sequence[object]]) -> pd.DataFrame:
    raw = pd.DataFrame(list(records), dtype=object)
    raw.index = pd.RangeIndex(1, len(raw) + 1)
    return raw


