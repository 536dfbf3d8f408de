"""One table as the user wrote it: rows arrive one at a time (row 1 = the header) → a TextTable of data rows.

Every cell is kept as text (stripped), or None when empty or a missing-value word (NA, NULL, …), so a
problem can always quote the value exactly as typed. The header names the columns; blank rows are
skipped but keep their numbers (rows are numbered as a spreadsheet shows them).

The limits are enforced as the rows arrive, so an oversized file is refused after reading at most
one block past the limit: rows (MAX_ROWS data rows), columns (MAX_COLUMNS) and the length of one
cell (MAX_CELL_CHARS, a problem row naming file, row and column). Cells are collected column by
column in plain lists, and a value repeated down a column (dates, event types, ids) is stored once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd

from core.importer.limits import ReadLimits
from core.importer.problems import ERROR, ProblemReport
from core.importer.rules import MISSING_TEXT, SPECS

BLOCK_ROWS = 4096           # rows cleaned together (and the most read past a row limit)
HINT_ROWS = 20              # rows searched for column names that sit below a title
_MEMO_LIMIT = 65_536        # distinct values remembered per column before the memo starts again


@dataclass
class TextTable:
    """One table as the user wrote it: every cell a stripped string or None; index = the file's row."""

    table: str                 # "patients" | "events"
    file: str                  # how problems name it: "events.csv" or "cohort.xlsx (sheet events)"
    frame: pd.DataFrame


def header_name(cell: object) -> str:
    text = "" if cell is None else str(cell)
    return text.replace("\ufeff", "").strip().lower()


class _CleanText(dict[str | None, str | None]):
    """Raw cell → stripped text or None, remembered: a column's repeated values are cleaned (and stored) once."""

    def __missing__(self, value: str | None) -> str | None:
        text = None if value is None else value.strip()
        if text == "" or text in MISSING_TEXT:
            text = None
        if len(self) >= _MEMO_LIMIT:
            self.clear()
        self[value] = text
        return text


class TableBuilder:
    """Collects one table row by row; `finish()` gives the TextTable (or None after reporting why not).

    `fixed_width`: the header fixes the number of columns (CSV): a row with more values gets a
    problem row and is cut to the header. Otherwise (workbooks, or a CSV whose first line is a title)
    the table is as wide as its widest row and unnamed columns holding values are reported.
    """

    def __init__(self, table: str, file: str, report: ProblemReport, limits: ReadLimits = ReadLimits(), *,
                 fixed_width: bool = False) -> None:
        self.table, self.file, self.report, self.limits = table, file, report, limits
        self.fixed_width = fixed_width
        self.header: list[str] | None = None
        self.width = 0
        self.columns: list[list[str | None]] = []
        self.rows: list[int] = []                      # the file's row number of each data row kept
        self.hint_rows: list[tuple[int, list[str]]] = []
        self.failed = False
        self._block: list[tuple[int, Sequence[str | None]]] = []
        self._memo: list[_CleanText] = []

    # ------------------------------------------------------------------ rows in
    def add(self, row: int, cells: Sequence[str | None]) -> bool:
        """One row as read; False once the table cannot be read further (a limit was reached)."""
        if self.failed:
            return False
        if self.header is None:
            return self._add_header(row, cells)
        if len(cells) > self.width:
            if self.fixed_width:
                cells = self._cut(row, cells)
            elif len(cells) > self.limits.max_columns:
                return self._fail(row, "", f"{len(cells):,} columns",
                                  f"at most {self.limits.max_columns:,} columns (delete unused columns)")
        if row > 2 * self.limits.max_rows + 1:
            self._flush()               # the data-row limit, if reached, names its own row
            return self.failed or self._fail(row, "",
                                             f"more than {2 * self.limits.max_rows:,} rows (blank rows included)",
                              f"at most {self.limits.max_rows:,} data rows per table (delete the empty rows)")
        self._block.append((row, cells))
        if len(self._block) >= BLOCK_ROWS:
            self._flush()
        return not self.failed

    def _add_header(self, row: int, cells: Sequence[str | None]) -> bool:
        if len(cells) > self.limits.max_columns:
            return self._fail(1, "", f"{len(cells):,} columns",
                              f"at most {self.limits.max_columns:,} columns (delete unused columns)")
        checked = [(row, cells)]
        self._check_lengths(checked, [f"column {i + 1}" for i in range(len(cells))])
        cells = checked[0][1]
        self.header = [header_name(c) for c in cells]
        if self.fixed_width and sum(1 for name in self.header if name) < 2:
            self.fixed_width = False    # a title line, not a header: the header check explains
        self._widen(len(cells))
        return True

    def _cut(self, row: int, cells: Sequence[str | None]) -> Sequence[str | None]:
        spill = [c for c in cells[self.width:] if c and c.strip()]
        if spill:
            self.report.add(ERROR, self.file, row, "", spill[0],
                            f"at most {self.width} values, one per header column (this row has {len(cells)}: "
                            "a stray separator, or a value with a comma that needs quotes?)")
        return cells[:self.width]

    def _fail(self, row: int, column: str, value: str, expected: str) -> bool:
        self.report.add(ERROR, self.file, row, column, value, expected)
        self.failed = True
        return False

    def _widen(self, width: int) -> None:
        while self.width < width:
            self.columns.append([None] * len(self.rows))
            self._memo.append(_CleanText())
            self.width += 1
        assert self.header is not None
        self.header.extend([""] * (self.width - len(self.header)))

    # ------------------------------------------------------------------ a block of rows
    def column_name(self, index: int) -> str:
        assert self.header is not None
        return self.header[index] if index < len(self.header) and self.header[index] else f"column {index + 1}"

    def _check_lengths(self, block: list[tuple[int, Sequence[str | None]]],
                       names: Sequence[str] | None = None) -> None:
        """Cells longer than the limit: one problem each, and the cell is dropped (no later check repeats it).

        A row holding such a cell is replaced in `block` by a copy without it: the reader's own row is
        left as it was handed over.
        """
        limit = self.limits.max_cell_chars
        if max(map(len, filter(None, chain.from_iterable(cells for _, cells in block))), default=0) <= limit:
            return
        for k, (row, cells) in enumerate(block):
            too_long = [(i, cell) for i, cell in enumerate(cells) if cell is not None and len(cell) > limit]
            if not too_long:
                continue
            kept = list(cells)
            for i, cell in too_long:
                column = names[i] if names is not None else self.column_name(i)
                self.report.add(ERROR, self.file, row, column, cell,
                                f"at most {limit:,} characters in one cell (this one has {len(cell):,}); "
                                "shorten the text or move it to a document outside the cohort file")
                self.report.claim(self.file, row, column)
                kept[i] = None
            block[k] = (row, kept)

    def _flush(self) -> None:
        block, self._block = self._block, []
        if not block:
            return
        if len(self.hint_rows) < HINT_ROWS - 1:
            self.hint_rows.extend((row, [header_name(c) for c in cells])
                                  for row, cells in block[:HINT_ROWS - 1 - len(self.hint_rows)])
        self._check_lengths(block)
        width = max(self.width, max(len(cells) for _, cells in block))
        if width > self.width:
            self._widen(width)
        padded = [cells if len(cells) == width else [*cells, *[None] * (width - len(cells))] for _, cells in block]
        cleaned = [list(map(memo.__getitem__, values)) for memo, values in zip(self._memo, zip(*padded))]
        keep = [j for j, nonblank in enumerate(map(any, zip(*cleaned))) if nonblank]
        if len(self.rows) + len(keep) > self.limits.max_rows:
            over = keep[self.limits.max_rows - len(self.rows)]
            self._fail(block[over][0], "", f"more than {self.limits.max_rows:,} rows",
                       f"at most {self.limits.max_rows:,} data rows per table")
            return
        if len(keep) < len(block):
            cleaned = [[values[j] for j in keep] for values in cleaned]
        for column, values in zip(self.columns, cleaned):
            column.extend(values)
        self.rows.extend(block[j][0] for j in keep)

    # ------------------------------------------------------------------ the table out
    def finish(self) -> TextTable | None:
        if self.failed:
            return None
        self._flush()
        if self.failed:
            return None
        header = self.header
        if header is None or not any(header):
            self.report.add(ERROR, self.file, 1, "", "(no header)",
                            f"the header row of the {self.table} table in row 1 (column names as in the template)")
            return None
        keep: list[int] = []
        seen: dict[str, int] = {}
        for i, name in enumerate(header):
            if name == "":
                if any(v is not None for v in self.columns[i]):
                    self.report.add(ERROR, self.file, 1, f"column {i + 1}", "(no name)",
                                    "a column name in the header for every column that holds values")
                continue
            if name in seen:
                self.report.add(ERROR, self.file, 1, name, name,
                                f"each column once (also column {seen[name] + 1}); the repeat is ignored")
                continue
            seen[name] = i
            keep.append(i)
        if not self.rows or not keep:
            self.report.add(ERROR, self.file, 2, "", "(no data rows)",
                            f"at least one {self.table[:-1]} row under the header")
            self._hint_header_row()
            return None
        index = pd.Index(self.rows, dtype="int64", name="row")
        data: dict[str, pd.Series] = {}
        for i in keep:      # each list is let go once its column is built: one copy of a column at a time
            values = np.fromiter(self.columns[i], dtype=object, count=len(self.rows))
            data[header[i]] = pd.Series(values, index=index, dtype=object, copy=False)
            self.columns[i] = []
        self.columns = []
        frame = pd.DataFrame(data, index=index, copy=False)
        if not any(s.name in frame.columns for s in SPECS[self.table] if s.in_header):
            self._hint_header_row()
        return TextTable(table=self.table, file=self.file, frame=frame)

    def _hint_header_row(self) -> None:
        """When the column names sit lower down (a title above the table), say where."""
        wanted = {s.name for s in SPECS[self.table] if s.in_header}
        for row, names in self.hint_rows:
            if len(wanted & set(names)) >= 2:
                self.report.add(ERROR, self.file, row, "", "(column names found here)",
                                "the column names in row 1: delete the rows above the header")
                return

