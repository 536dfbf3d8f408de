"""The figures the paper publishes about its own cohort, read from `targets.csv`.

`targets.csv` (next to this module) is the one copy of the published values: the paper check
and its golden test both read it. One row per figure of `paper-targets.md`, in the order the
paper presents them:

* `target_id` — the id in paper-targets.md ("A01", "E08", …)
* `section` — the table, figure or passage of the paper it belongs to
* `figure` — what the figure is, in the paper's words
* `published` — the value exactly as printed ("56.25", "Feb 2017", "—"); "consistent" for the
  claims the check tests against the rows (the claim itself is in `figure`)
* `where` — every table or sentence that prints it
* `conflict` — the documented conflict (paper-conflicts.md, C01–C13) that applies, or empty
* `metadata` — "yes" for a study-level fact no patient row can give (A51), else empty
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

TARGETS_PATH = Path(__file__).with_name("targets.csv")
COLUMNS: tuple[str, ...] = ("target_id", "section", "figure", "published", "where", "conflict", "metadata")

_TARGET_ID = re.compile(r"^[A-Z][0-9]{2}$")
_CONFLICT_ID = re.compile(r"^C[0-9]{2}$")
_METADATA = {"": False, "yes": True}


class TargetsFileError(ValueError):
    """targets.csv breaks one of its rules; the message names the row, the value and the rule."""


@dataclass(frozen=True)
class PaperTarget:
    """One published figure: what the paper prints and where (paper-targets.md)."""

    target_id: str
    section: str
    figure: str
    published: str
    where: str
    metadata: bool = False
    conflict: str = ""          # "C02" etc., or "" when no documented conflict applies


def read_targets(path: Path = TARGETS_PATH) -> tuple[PaperTarget, ...]:
    """Every published figure in `path`, in file order, checked row by row."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise TargetsFileError(f"{path.name}: header is {reader.fieldnames}; expected the columns "
                                   f"{', '.join(COLUMNS)} in that order.")
        targets = tuple(_target(path.name, line, row) for line, row in enumerate(reader, start=2))
    seen: set[str] = set()
    for target in targets:
        if target.target_id in seen:
            raise TargetsFileError(f"{path.name}: target {target.target_id} is listed twice; each published "
                                   "figure has one row.")
        seen.add(target.target_id)
    return targets


def _target(file_name: str, line: int, row: dict[str, str | None]) -> PaperTarget:
    def cell(column: str) -> str:
        value = row.get(column)
        if value is None:
            raise TargetsFileError(f"{file_name} line {line}: the row has no '{column}' cell; every row has "
                                   f"{len(COLUMNS)} cells.")
        return value

    target_id = cell("target_id")
    where = f"{file_name} line {line} ({target_id or 'no id'})"
    if None in row:
        raise TargetsFileError(f"{where}: the row has more than {len(COLUMNS)} cells; quote a cell that "
                               "contains a comma.")
    if not _TARGET_ID.match(target_id):
        raise TargetsFileError(f"{where}: target_id {target_id!r} is not a letter and two digits, like 'A01'.")
    for column in ("section", "figure", "published", "where"):
        if not cell(column).strip():
            raise TargetsFileError(f"{where}: '{column}' is empty; write it as the paper prints it.")
    conflict = cell("conflict")
    if conflict and not _CONFLICT_ID.match(conflict):
        raise TargetsFileError(f"{where}: conflict {conflict!r} is not a paper-conflicts.md id like 'C02'; "
                               "leave it empty when none applies.")
    metadata = cell("metadata")
    if metadata not in _METADATA:
        raise TargetsFileError(f"{where}: metadata {metadata!r} must be 'yes' or empty.")
    return PaperTarget(target_id=target_id, section=cell("section"), figure=cell("figure"),
                       published=cell("published"), where=cell("where"), metadata=_METADATA[metadata],
                       conflict=conflict)


TARGETS: tuple[PaperTarget, ...] = read_targets()

# The paper's sections in the order it presents them: the order they first appear in targets.csv.
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(t.section for t in TARGETS))

PUBLISHED: dict[str, str] = {t.target_id: t.published for t in TARGETS}
