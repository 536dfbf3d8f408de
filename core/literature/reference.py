"""The published figures the cohort is compared with, read from `reference.csv` and `discrepancies.csv`.

`reference.csv` (next to this module) holds one row per published figure of another study: the
studies of the paper's Table 9 and Discussion, and the INO-VATE final report where it updates the
first. `discrepancies.csv` holds the figures the paper quotes that their sources do not support,
each with its evidence. README.md in this folder states the rules of both files; the reader below
enforces the ones a single cell can break (types, vocabularies, the header), and
`integrity_problems()` the ones that need a whole row or the whole table.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Literal

REFERENCE_PATH = Path(__file__).with_name("reference.csv")
DISCREPANCIES_PATH = Path(__file__).with_name("discrepancies.csv")

REFERENCE_COLUMNS: tuple[str, ...] = (
    "row_id", "study_key", "study", "cited_as", "phase", "arm", "population", "population_n", "salvage_lines",
    "age", "ph_status", "dosing", "cd22", "endpoint", "definition", "count", "denominator", "estimate", "unit",
    "ci_lower", "ci_upper", "ci_level", "ci_method", "time_point", "derived", "journal", "year", "locator", "doi",
    "url", "verified", "checked", "table9_column", "table9_label",
)
DISCREPANCY_COLUMNS: tuple[str, ...] = (
    "discrepancy_id", "study_key", "paper_locator", "paper_text", "reference_rows", "kind", "evidence",
    "table9_column", "table9_label", "table9_printed", "replaces",
)
# Cells every row fills; the rest may be empty when the source does not state them.
REQUIRED: tuple[str, ...] = ("row_id", "study_key", "study", "phase", "arm", "population", "endpoint",
                             "definition", "estimate", "unit", "locator", "verified", "checked")

Verified = Literal["yes", "secondary", "no"]
VERIFIED: tuple[str, ...] = ("yes", "secondary", "no")
UNITS: tuple[str, ...] = ("%", "months", "ratio")
DERIVABLE: tuple[str, ...] = ("count", "denominator")
TABLE9_COLUMNS: tuple[str, ...] = ("CD22 positivity", "CR/CRi", "Median OS (months)", "Duration of remission (months)")
NOT_REACHED = "NR"

_ROW_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DISCREPANCY_ID = re.compile(r"^D[0-9]{2}$")


class ReferenceFileError(ValueError):
    """A literature file breaks one of its rules; the message names the file, line, cell and rule."""


@dataclass(frozen=True)
class Study:
    """What a study is, as every row of it states: the same on each of its rows."""

    key: str                 # "inovate2016"
    label: str               # "Kantarjian et al., 2016", as the paper names it
    cited_as: str            # the paper's reference number(s), "13 (Table 9); 3 (Introduction, Discussion)"
    phase: str               # "II", "III", "I/II", "RWS" (real-world study)
    population: str
    population_n: int | None
    salvage_lines: str
    age: str
    ph_status: str
    dosing: str
    cd22: str

    @property
    def table9_number(self) -> str:
        """The reference number Table 9 prints after the study ("" for the present study)."""
        found = re.match(r"^(\d+)", self.cited_as)
        return found.group(1) if found else ""


@dataclass(frozen=True)
class Source:
    journal: str
    year: int | None
    locator: str             # where in the source: "abstract (Cancer 2019;125(14):2474–2487)"
    doi: str                 # "" when not found: a DOI is never guessed
    url: str

    def cite(self) -> str:
        parts = [p for p in (self.journal, str(self.year or ""), self.locator) if p]
        if self.doi:
            parts.append(f"doi:{self.doi}")
        return " · ".join(parts)


@dataclass(frozen=True)
class PublishedFigure:
    """One figure a study published, with where it was checked."""

    row_id: str
    study: Study
    arm: str
    endpoint: str            # "cr_cri", "os_median", "dor_median", "mrd_negativity", …
    definition: str          # the source's definition of what is counted
    estimate: Decimal        # as published, keeping its printed precision ("59.4", "18")
    unit: str                # "%", "months", "ratio"
    count: int | None
    denominator: int | None
    ci_lower: Decimal | None
    ci_upper: Decimal | None
    ci_upper_not_reached: bool
    ci_level: Decimal | None
    ci_method: str           # as the source states it ("not stated" otherwise)
    time_point: str          # "24 months" for a landmark rate
    derived: tuple[str, ...]  # cells worked out from the published ones ("count": k from estimate × n)
    source: Source
    verified: Verified       # yes = checked against the source; secondary = against a report of it; no
    checked: str             # what was checked, or why it could not be
    table9_column: str
    table9_label: str

    @property
    def study_key(self) -> str:
        return self.study.key

    def format_value(self) -> str:
        """The estimate as a person writes it: "9/49 (18%)", "59.4%", "7.7"."""
        number = format(self.estimate, "f")
        if self.unit != "%":
            return number
        if self.count is not None and self.denominator is not None:
            return f"{self.count}/{self.denominator} ({number}%)"
        return f"{number}%"

    def format_ci(self) -> str:
        if self.ci_lower is None and self.ci_upper is None and not self.ci_upper_not_reached:
            return ""
        upper = NOT_REACHED if self.ci_upper_not_reached else format(self.ci_upper, "f")
        level = f"{(Decimal(100) * self.ci_level).normalize():f}% CI " if self.ci_level is not None else "CI "
        return f"{level}{format(self.ci_lower, 'f')}–{upper}"


@dataclass(frozen=True)
class Discrepancy:
    """A figure the paper quotes that its source does not support, with the evidence."""

    discrepancy_id: str
    study_key: str
    paper_locator: str       # "Table 9", "Discussion ¶3"
    paper_text: str          # what the paper prints
    reference_rows: tuple[str, ...]   # the reference rows the evidence rests on
    kind: str                # "wrong figure", "arithmetic", "estimate and CI from different analyses", …
    evidence: str
    table9_column: str       # for a Table 9 cell: which column, label and printed value
    table9_label: str
    table9_printed: str
    replaces: tuple[str, ...]  # reference rows the printed entry stands in place of in Table 9


def read_reference(path: Path | None = None) -> tuple[PublishedFigure, ...]:
    """Every published figure in `path` (the shipped reference.csv by default), in file order, each
    cell checked. The shipped file is read once per process."""
    return _shipped_reference() if path is None else _read_reference(path)


def read_discrepancies(path: Path | None = None) -> tuple[Discrepancy, ...]:
    return _shipped_discrepancies() if path is None else _read_discrepancies(path)


@lru_cache(maxsize=1)
def _shipped_reference() -> tuple[PublishedFigure, ...]:
    return _read_reference(REFERENCE_PATH)


@lru_cache(maxsize=1)
def _shipped_discrepancies() -> tuple[Discrepancy, ...]:
    return _read_discrepancies(DISCREPANCIES_PATH)


def _read_reference(path: Path) -> tuple[PublishedFigure, ...]:
    rows = _read(path, REFERENCE_COLUMNS)
    figures = tuple(_figure(path.name, line, row) for line, row in rows)
    _unique(path.name, [f.row_id for f in figures], "row_id")
    return figures


def _read_discrepancies(path: Path) -> tuple[Discrepancy, ...]:
    rows = _read(path, DISCREPANCY_COLUMNS)
    found = tuple(_discrepancy(path.name, line, row) for line, row in rows)
    _unique(path.name, [d.discrepancy_id for d in found], "discrepancy_id")
    return found


def figures(*, study: str | None = None, endpoint: str | None = None, arm: str | None = None,
            verified: Verified | None = None) -> tuple[PublishedFigure, ...]:
    """The reference rows matching every given field (study key, endpoint key, arm, verified)."""
    if study is not None and study not in {f.study_key for f in read_reference()}:
        raise ValueError(f"Unknown study {study!r}; choose one of {', '.join(study_keys())}")
    return tuple(f for f in read_reference()
                 if (study is None or f.study_key == study) and (endpoint is None or f.endpoint == endpoint)
                 and (arm is None or f.arm == arm) and (verified is None or f.verified == verified))


def figure(row_id: str) -> PublishedFigure:
    for found in read_reference():
        if found.row_id == row_id:
            return found
    raise ValueError(f"No reference row {row_id!r}")


def study_keys() -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.study_key for f in read_reference()))


def studies() -> tuple[Study, ...]:
    """Each study once, in file order (integrity_problems() checks its rows agree)."""
    seen: dict[str, Study] = {}
    for f in read_reference():
        seen.setdefault(f.study_key, f.study)
    return tuple(seen.values())


def discrepancies(*, study: str | None = None) -> tuple[Discrepancy, ...]:
    return tuple(d for d in read_discrepancies() if study is None or d.study_key == study)


# ---------------------------------------------------------------------------------------------- rules
def integrity_problems(reference: tuple[PublishedFigure, ...] | None = None,
                       found: tuple[Discrepancy, ...] | None = None) -> list[str]:
    """The rules a row or the table can break beyond its cells, one sentence per problem (README.md)."""
    reference = read_reference() if reference is None else reference
    found = read_discrepancies() if found is None else found
    problems: list[str] = []
    by_study: dict[str, Study] = {}
    for f in reference:
        first = by_study.setdefault(f.study_key, f.study)
        if first != f.study:
            problems.append(f"{f.row_id}: study fields differ from the first row of {f.study_key}")
        if f.verified != "no" and not (f.source.url or f.source.doi):
            problems.append(f"{f.row_id}: verified '{f.verified}' but neither a URL nor a DOI names the source")
        if f.ci_lower is not None and not f.ci_lower <= f.estimate:
            problems.append(f"{f.row_id}: CI lower {f.ci_lower} is above the estimate {f.estimate}")
        if f.ci_upper is not None and not f.estimate <= f.ci_upper:
            problems.append(f"{f.row_id}: CI upper {f.ci_upper} is below the estimate {f.estimate}")
        problems.extend(_count_problems(f))
    ids = {f.row_id for f in reference}
    for d in found:
        if d.study_key not in by_study:
            problems.append(f"{d.discrepancy_id}: study {d.study_key!r} has no reference row")
        for row_id in d.reference_rows + d.replaces:
            if row_id not in ids:
                problems.append(f"{d.discrepancy_id}: reference row {row_id!r} does not exist")
    return problems


def percent_consistent(count: int, denominator: int, estimate: Decimal) -> bool:
    """Whether k/n printed at the estimate's precision can be the estimate: within half a unit of its
    last digit, inclusive, so a value truncated at an exact half (7/32 = 21.875 → "21.87") passes."""
    half_unit = Decimal(5) * Decimal(10) ** (estimate.as_tuple().exponent - 1)   # type: ignore[operator]
    return abs(Decimal(100) * Decimal(count) / Decimal(denominator) - estimate) <= half_unit


def _count_problems(f: PublishedFigure) -> list[str]:
    if f.count is not None and f.denominator is None:
        return [f"{f.row_id}: a count without a denominator"]
    if f.count is not None and f.denominator is not None and not 0 <= f.count <= f.denominator:
        return [f"{f.row_id}: count {f.count} is not between 0 and the denominator {f.denominator}"]
    if f.unit != "%" or f.denominator is None:
        return []
    if f.count is not None:
        if not percent_consistent(f.count, f.denominator, f.estimate):
            return [f"{f.row_id}: {f.count}/{f.denominator} is not {f.estimate}%"]
        return []
    if not any(percent_consistent(k, f.denominator, f.estimate) for k in range(f.denominator + 1)):
        return [f"{f.row_id}: no whole count of {f.denominator} gives {f.estimate}%"]
    return []


# ---------------------------------------------------------------------------------------------- reading
def _read(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != columns:
            raise ReferenceFileError(f"{path.name}: header is {reader.fieldnames}; expected the columns "
                                     f"{', '.join(columns)} in that order.")
        out = []
        for line, row in enumerate(reader, start=2):
            if None in row or any(v is None for v in row.values()):
                raise ReferenceFileError(f"{path.name} line {line}: the row does not have {len(columns)} cells; "
                                         "quote a cell that contains a comma.")
            out.append((line, {k: v.strip() for k, v in row.items()}))
    return out


def _unique(file_name: str, ids: list[str], column: str) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise ReferenceFileError(f"{file_name}: {column} {value!r} is listed twice; ids are unique.")
        seen.add(value)


def _figure(file_name: str, line: int, row: dict[str, str]) -> PublishedFigure:
    where = f"{file_name} line {line} ({row['row_id'] or 'no id'})"
    for column in REQUIRED:
        if not row[column]:
            raise ReferenceFileError(f"{where}: '{column}' is empty; every row states it.")
    if not _ROW_ID.match(row["row_id"]):
        raise ReferenceFileError(f"{where}: row_id must be lower-case letters, digits and hyphens.")
    _choice(where, "verified", row["verified"], VERIFIED)
    _choice(where, "unit", row["unit"], UNITS)
    if row["table9_column"]:
        _choice(where, "table9_column", row["table9_column"], TABLE9_COLUMNS)
    derived = tuple(v for v in row["derived"].split(";") if v)
    for value in derived:
        _choice(where, "derived", value, DERIVABLE)
    ci_upper_text = row["ci_upper"]
    not_reached = ci_upper_text == NOT_REACHED
    ci_level = _decimal(where, "ci_level", row["ci_level"])
    if ci_level is not None and not Decimal(0) < ci_level < Decimal(1):
        raise ReferenceFileError(f"{where}: ci_level {ci_level} is not a proportion such as 0.95.")
    if (row["ci_lower"] or ci_upper_text) and ci_level is None:
        raise ReferenceFileError(f"{where}: a CI without its level; write ci_level (0.95).")
    study = Study(key=row["study_key"], label=row["study"], cited_as=row["cited_as"], phase=row["phase"],
                  population=row["population"], population_n=_integer(where, "population_n", row["population_n"]),
                  salvage_lines=row["salvage_lines"], age=row["age"], ph_status=row["ph_status"],
                  dosing=row["dosing"], cd22=row["cd22"])
    source = Source(journal=row["journal"], year=_integer(where, "year", row["year"]), locator=row["locator"],
                    doi=row["doi"], url=row["url"])
    estimate = _decimal(where, "estimate", row["estimate"])
    assert estimate is not None   # REQUIRED
    return PublishedFigure(
        row_id=row["row_id"], study=study, arm=row["arm"], endpoint=row["endpoint"], definition=row["definition"],
        estimate=estimate, unit=row["unit"], count=_integer(where, "count", row["count"]),
        denominator=_integer(where, "denominator", row["denominator"]),
        ci_lower=_decimal(where, "ci_lower", row["ci_lower"]),
        ci_upper=None if not_reached else _decimal(where, "ci_upper", ci_upper_text),
        ci_upper_not_reached=not_reached, ci_level=ci_level, ci_method=row["ci_method"],
        time_point=row["time_point"], derived=derived, source=source, verified=row["verified"],  # type: ignore[arg-type]
        checked=row["checked"], table9_column=row["table9_column"], table9_label=row["table9_label"])


def _discrepancy(file_name: str, line: int, row: dict[str, str]) -> Discrepancy:
    where = f"{file_name} line {line} ({row['discrepancy_id'] or 'no id'})"
    if not _DISCREPANCY_ID.match(row["discrepancy_id"]):
        raise ReferenceFileError(f"{where}: discrepancy_id must be 'D' and two digits, like 'D01'.")
    for column in ("study_key", "paper_locator", "paper_text", "kind", "evidence"):
        if not row[column]:
            raise ReferenceFileError(f"{where}: '{column}' is empty; every discrepancy states it.")
    if row["table9_column"]:
        _choice(where, "table9_column", row["table9_column"], TABLE9_COLUMNS)
        if not row["table9_printed"]:
            raise ReferenceFileError(f"{where}: a Table 9 discrepancy needs 'table9_printed', the cell as printed.")
    return Discrepancy(
        discrepancy_id=row["discrepancy_id"], study_key=row["study_key"], paper_locator=row["paper_locator"],
        paper_text=row["paper_text"], reference_rows=tuple(v for v in row["reference_rows"].split(";") if v),
        kind=row["kind"], evidence=row["evidence"], table9_column=row["table9_column"],
        table9_label=row["table9_label"], table9_printed=row["table9_printed"],
        replaces=tuple(v for v in row["replaces"].split(";") if v))


def _choice(where: str, column: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ReferenceFileError(f"{where}: {column} {value!r} is not one of {', '.join(allowed)}.")


def _integer(where: str, column: str, value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise ReferenceFileError(f"{where}: {column} {value!r} is not a whole number.")
    return int(value)


def _decimal(where: str, column: str, value: str) -> Decimal | None:
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ReferenceFileError(f"{where}: {column} {value!r} is not a number.") from None
    if not number.is_finite():
        raise ReferenceFileError(f"{where}: {column} {value!r} is not a finite number.")
    return number
