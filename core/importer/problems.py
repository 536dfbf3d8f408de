"""The problem report: every problem as file · row · column · value · what is expected.

Rows are the user's rows: 1-based, the header is row 1, so the first data row is row 2 (what a
spreadsheet shows). An error blocks the import; a warning is worth a look but the import goes ahead.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ROW_CONVENTION = ("Rows are numbered as a spreadsheet shows them: the header is row 1, "
                  "so the first data row is row 2.")

ERROR = "error"
WARNING = "warning"
MAX_VALUE_CHARS = 120   # how much of a bad value a problem row quotes
MAX_LISTED_PER_COLUMN = 1_000   # problem rows listed per severity · file · column; more are counted
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
    # rows listed / counted only, per (severity, file, column): a file wrong on every row stays a short report
    _listed: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    _unlisted: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    # file → {contract column → the user's column}: set by a column mapping, so problems name both
    _sources: dict[str, dict[str, str]] = field(default_factory=dict)

    def claim(self, file: str, row: int, column: str) -> None:
        """This cell's problem is already reported (e.g. a formula): later checks stay quiet about it."""
        self._claimed.setdefault((file, column), set()).add(row)

    def rename_columns(self, file: str, sources: dict[str, str]) -> None:
        """From now on a problem about `column` of `file` names the user's column too ("gender → sex"),
        and a cell already reported under the user's column stays reported."""
        self._sources.setdefault(file, {}).update(sources)
        for column, source in sources.items():
            if (file, source) in self._claimed:
                self._claimed.setdefault((file, column), set()).update(self._claimed[(file, source)])

    def _shown(self, file: str, column: str) -> str:
        source = self._sources.get(file, {}).get(column)
        return column if source is None else f"{source} → {column}"

    def add(self, severity: str, file: str, row: int | None, column: str, value: object, expected: str) -> None:
        column = self._shown(file, column)
        self._note_file(file)
        if self._room((severity, file, column), 1) == 0:
            return
        self._chunks.append(pd.DataFrame({
            "severity": [severity], "file": [file], "row": pd.array([row], dtype="Int64"),
            "column": [column], "value": [quote_value(value)], "expected": [expected]}))

    def add_many(self, severity: str, file: str, rows: Iterable[int], column: str, values: Iterable[object],
                 expected: str | Sequence[str]) -> None:
        row_list = list(rows)
        value_list = list(values)
        expected_list = [expected] * len(row_list) if isinstance(expected, str) else list(expected)
        claimed = self._claimed.get((file, column))
        if claimed:
            keep = [i for i, r in enumerate(row_list) if r not in claimed]
            row_list = [row_list[i] for i in keep]
            value_list = [value_list[i] for i in keep]
            expected_list = [expected_list[i] for i in keep]
        if not row_list:
            return
        column = self._shown(file, column)
        self._note_file(file)
        room = self._room((severity, file, column), len(row_list))
        if room < len(row_list):
            row_list, value_list, expected_list = row_list[:room], value_list[:room], expected_list[:room]
        if not row_list:
            return
        self._chunks.append(pd.DataFrame({
            "severity": severity, "file": file, "row": pd.array(row_list, dtype="Int64"), "column": column,
            "value": [quote_value(v) for v in value_list], "expected": expected_list}))

    def _room(self, kind: tuple[str, str, str], wanted: int) -> int:
        """How many of `wanted` new rows of this kind are listed; the rest are only counted."""
        room = max(0, MAX_LISTED_PER_COLUMN - self._listed[kind])
        listed = min(room, wanted)
        self._listed[kind] += listed
        if wanted > listed:
            self._unlisted[kind] += wanted - listed
        return listed

    def _note_file(self, file: str) -> None:
        if file not in self._files:
            self._files.append(file)

    def frame(self) -> pd.DataFrame:
        """The problems as a table (columns PROBLEM_COLUMNS), sorted by file, then row."""
        chunks = list(self._chunks)
        if self._unlisted:
            kinds = list(self._unlisted.items())
            chunks.append(pd.DataFrame({
                "severity": [k[0] for k, _ in kinds], "file": [k[1] for k, _ in kinds],
                "row": pd.array([None] * len(kinds), dtype="Int64"), "column": [k[2] for k, _ in kinds],
                "value": [f"… and {n:,} more rows" for _, n in kinds],
                "expected": [f"the same as the {MAX_LISTED_PER_COLUMN:,} rows listed for this column: fix those, "
                             "then check again" for _ in kinds]}))
        if not chunks:
            return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else object) for c in PROBLEM_COLUMNS})
        out = pd.concat(chunks, ignore_index=True)
        order = out["file"].map({f: i for i, f in enumerate(self._files)})
        out = out.assign(_f=order, _r=out["row"].fillna(0)).sort_values(["_f", "_r"], kind="stable")
        return out.drop(columns=["_f", "_r"]).reset_index(drop=True)

    @property
    def n_errors(self) -> int:
        return self._count(ERROR)

    @property
    def n_warnings(self) -> int:
        return self._count(WARNING)

    def _count(self, severity: str) -> int:
        """Every problem of this severity, listed or only counted."""
        return sum(n for kind, n in (self._listed + self._unlisted).items() if kind[0] == severity)

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

