"""The problem report: every problem as file · row · column · value · what is expected.

Rows are the user's rows: 1-based, the header is row 1, so the first data row is row 2 (what a
spreadsheet shows). An error blocks the import; a warning is worth a look but the import goes ahead.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ROW_CONVENTION = ("Rows are numbered as a spreadsheet shows them: the header is row 1, "
                  "so the first data row is row 2.")

ERROR = "error"
WARNING = "warning"
MAX_VALUE_CHARS = 120   # how much of a bad value a problem row quotes
# A plain number: a spreadsheet reads "-2" as a number, "-x" as the start of a formula.
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


PROBLEM_COLUMNS = ("severity", "file", "row", "column", "value", "expected")


@dataclass(frozen=True)
class Problem:
    """One thing wrong (error: blocks the import) or worth a look (warning: the import goes ahead)."""

    severity: str
    file: str
    row: int | None      # 1-based row in the user's file, header = row 1; None = the file as a whole
    column: str
    value: str
    expected: str


def quote_value(value: object) -> str:
    """A value as the problem table shows it: verbatim, shortened, '(empty)' when missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(empty)"
    text = str(value)
    if text == "":
        return "(empty)"
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


@dataclass
class ProblemReport:
    """Every problem found, errors and warnings, in the order of the user's files and rows."""

    _chunks: list[pd.DataFrame] = field(default_factory=list)
    _files: list[str] = field(default_factory=list)
    _claimed: dict[tuple[str, str], set[int]] = field(default_factory=dict)

    def claim(self, file: str, row: int, column: str) -> None:
        """This cell's problem is already reported (e.g. a formula): later checks stay quiet about it."""
        self._claimed.setdefault((file, column), set()).add(row)

    def add(self, severity: str, file: str, row: int | None, column: str, value: object, expected: str) -> None:
        self._note_file(file)
        self._chunks.append(pd.DataFrame({
            "severity": [severity], "file": [file], "row": pd.array([row], dtype="Int64"),
            "column": [column], "value": [quote_value(value)], "expected": [expected]}))

    def add_many(self, severity: str, file: str, rows: Iterable[int], column: str, values: Iterable[object],
                 expected: str | Sequence[str]) -> None:
        rows = list(rows)
        values = list(values)
        expected_list = [expected] * len(rows) if isinstance(expected, str) else list(expected)
        claimed = self._claimed.get((file, column))
        if claimed:
            keep = [i for i, r in enumerate(rows) if r not in claimed]
            rows, values, expected_list = ([x[i] for i in keep] for x in (rows, values, expected_list))
        if not rows:
            return
        self._note_file(file)
        self._chunks.append(pd.DataFrame({
            "severity": severity, "file": file, "row": pd.array(rows, dtype="Int64"), "column": column,
            "value": [quote_value(v) for v in values], "expected": expected_list}))

    def _note_file(self, file: str) -> None:
        if file not in self._files:
            self._files.append(file)

    def frame(self) -> pd.DataFrame:
        """The problems as a table (columns PROBLEM_COLUMNS), sorted by file, then row."""
        if not self._chunks:
            return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else object) for c in PROBLEM_COLUMNS})
        out = pd.concat(self._chunks, ignore_index=True)
        order = out["file"].map({f: i for i, f in enumerate(self._files)})
        out = out.assign(_f=order, _r=out["row"].fillna(0)).sort_values(["_f", "_r"], kind="stable")
        return out.drop(columns=["_f", "_r"]).reset_index(drop=True)

    @property
    def n_errors(self) -> int:
        return int(sum((c["severity"] == ERROR).sum() for c in self._chunks))

    @property
    def n_warnings(self) -> int:
        return int(sum((c["severity"] == WARNING).sum() for c in self._chunks))

    @property
    def ok(self) -> bool:
        return self.n_errors == 0

    def problems(self) -> list[Problem]:
        f = self.frame()
        return [Problem(r.severity, r.file, None if pd.isna(r.row) else int(r.row), r.column, r.value, r.expected)
                for r in f.itertuples(index=False)]

    def to_csv_bytes(self) -> bytes:
        """The problem table as UTF-8 CSV (with a BOM, so spreadsheet programs read the accents)."""
        buffer = io.StringIO()
        frame = self.frame()
        for column in ("file", "column", "value", "expected"):
            frame[column] = frame[column].map(_defuse_spreadsheet_formula)
        frame.to_csv(buffer, index=False)
        return buffer.getvalue().encode("utf-8-sig")

    def summary(self) -> str:
        e, w = self.n_errors, self.n_warnings
        return f"{e} error{'s' if e != 1 else ''}, {w} warning{'s' if w != 1 else ''}"


def _defuse_spreadsheet_formula(text: object) -> object:
    """A cell a spreadsheet would run as a formula (=, +, @, -x) gets a leading apostrophe (CSV injection)."""
    if not isinstance(text, str) or not text:
        return text
    if text[0] in "=+@\t\r" or (text[0] == "-" and not _PLAIN_NUMBER.match(text)):
        return "'" + text
    return text

