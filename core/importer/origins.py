"""Where a row of a table built from another format came from, so a problem names the user's own file.

A REDCap export or a set of ADaM datasets is turned into the contract's two tables before the usual
validation runs. That validation speaks of the tables it was given; `relay_problems` then restates
each of its problems in the user's terms — the file, row and column the value was read from (ADTTE's
row 7, column ADT, rather than row 40 of a built events table).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.importer.problems import ProblemReport

_ROW_REFERENCE = re.compile(r"\brow (\d+)\b")


@dataclass(frozen=True)
class Source:
    """One file rows were read from, and what it calls each contract column."""

    file: str
    columns: Mapping[str, str] = field(default_factory=dict)   # contract column → the file's name for it


@dataclass
class TableOrigins:
    """For one built table (named by its file label): each row's source file and row there.

    A row not listed in `rows` was read in place (same file label, same row); `columns` renames its
    columns (a REDCap record id called record_id is the contract's patient_id)."""

    label: str
    columns: Mapping[str, str] = field(default_factory=dict)        # renames for rows read in place
    sources: list[Source] = field(default_factory=list)
    rows: dict[int, tuple[int, int]] = field(default_factory=dict)   # built row → (source index, source row)

    def source(self, source: Source) -> int:
        """The index of `source` (added when new)."""
        for i, known in enumerate(self.sources):
            if known is source:
                return i
        self.sources.append(source)
        return len(self.sources) - 1

    def where(self, row: int | None, column: str) -> tuple[str, int | None, str]:
        """(file, row, column) in the user's terms; the label itself for a row not built from a source."""
        if row is None or row not in self.rows:
            return self.label, row, self.columns.get(column, column)
        index, source_row = self.rows[row]
        source = self.sources[index]
        return source.file, source_row, source.columns.get(column, column)

    def restate(self, text: str, file: str) -> str:
        """'row 12' in a message → the source's row (with its file when that is another one)."""
        def one(match: re.Match[str]) -> str:
            built = int(match.group(1))
            if built not in self.rows:
                return match.group(0)
            index, source_row = self.rows[built]
            other = self.sources[index].file
            return f"row {source_row}" if other == file else f"{other} row {source_row}"
        return _ROW_REFERENCE.sub(one, text)


def relay_problems(found: ProblemReport, report: ProblemReport, origins: Mapping[str, TableOrigins]) -> None:
    """Every problem of `found` into `report`, in the order found, restated through `origins`."""
    for problem in found.problems():
        table = origins.get(problem.file)
        if table is None:
            report.add(problem.severity, problem.file, problem.row, problem.column, problem.value,
                       problem.expected)
            continue
        file, row, column = table.where(problem.row, problem.column)
        report.add(problem.severity, file, row, column, _unquoted(problem.value), table.restate(problem.expected, file))


def _unquoted(value: str) -> str | None:
    """A problem's value as quoted (see problems.quote_value) back to what add() quotes again."""
    return None if value == "(empty)" else value
