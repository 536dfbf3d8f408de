"""The paper's Table 9 ("Clinical trials with InO"), rebuilt from the reference table.

Each row is a study; its descriptive columns come from the study's fields and its figure columns
from the reference rows tagged with that Table 9 column, formatted the way the table prints them.
`as_printed=False` (the default) gives what the sources support; `as_printed=True` puts back, in
place of the reference rows they replace, the entries the paper printed that its sources do not
support (discrepancies.csv), so the result is the table exactly as published.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.literature.reference import (
    Discrepancy,
    PublishedFigure,
    Study,
    read_discrepancies,
    read_reference,
)

# Table 9's rows, in its order (study keys of reference.csv).
TABLE9_STUDIES: tuple[str, ...] = (
    "kantarjian2012", "kantarjian2013", "advani2014", "inovate2016", "torrent2023", "agrawal2025",
)
TABLE9_HEADER: tuple[str, ...] = ("Study", "Phase", "Cohort (n)", "Dosing", "CD22 positivity", "CR/CRi",
                                  "Median OS (months)", "Duration of remission (months)")
NOT_REPORTED = "—"


@dataclass(frozen=True)
class Table9Row:
    """One study of Table 9; a cell is its printed lines ("CR", "9/49 (18%)", "CRi", …)."""

    study_key: str
    study: str                       # "Kantarjian et al., 2012 (12)"
    phase: str
    cohort: str                      # "Adults and children with R/R ALL (49)"
    dosing: str
    cd22: tuple[str, ...]
    cr_cri: tuple[str, ...]
    median_os: tuple[str, ...]
    duration_of_remission: tuple[str, ...]
    discrepancies: tuple[str, ...]   # ids of the discrepancies about this study's Table 9 row

    def cells(self) -> tuple[tuple[str, ...], ...]:
        """The eight cells in TABLE9_HEADER order, each as its lines."""
        return ((self.study,), (self.phase,), (self.cohort,), (self.dosing,) if self.dosing else (), self.cd22,
                self.cr_cri, self.median_os, self.duration_of_remission)


def table9_rows(*, as_printed: bool = False) -> tuple[Table9Row, ...]:
    """Table 9 from the reference table: what the sources support, or (`as_printed`) what the paper printed."""
    reference = read_reference()
    found = read_discrepancies()
    return tuple(_row(key, reference, found, as_printed) for key in TABLE9_STUDIES)


def _row(key: str, reference: tuple[PublishedFigure, ...], found: tuple[Discrepancy, ...],
         as_printed: bool) -> Table9Row:
    rows = [f for f in reference if f.study_key == key and f.table9_column]
    if not any(f.study_key == key for f in reference):
        raise ValueError(f"Table 9 study {key!r} has no row in reference.csv")
    study = next(f.study for f in reference if f.study_key == key)
    printed = [d for d in found if d.study_key == key and d.table9_column]
    concerning = tuple(d.discrepancy_id for d in found if d.study_key == key and "Table 9" in d.paper_locator)

    def cell(column: str, *, empty: tuple[str, ...] = (NOT_REPORTED,)) -> tuple[str, ...]:
        entries = _entries(column, [f for f in rows if f.table9_column == column],
                           [d for d in printed if d.table9_column == column], as_printed)
        if not entries:
            return empty
        return tuple(line for label, value in entries for line in _lines(column, label, value))

    cd22 = cell("CD22 positivity", empty=(study.cd22,) if study.cd22 else ())
    return Table9Row(study_key=key, study=_study_label(study), phase=study.phase,
                     cohort=f"{study.population} ({study.population_n})", dosing=study.dosing, cd22=cd22,
                     cr_cri=cell("CR/CRi"), median_os=cell("Median OS (months)"),
                     duration_of_remission=cell("Duration of remission (months)"),
                     discrepancies=concerning)


def _entries(column: str, rows: list[PublishedFigure], printed: list[Discrepancy],
             as_printed: bool) -> list[tuple[str, str]]:
    """(label, value) pairs in the table's order; a printed entry takes the place of the first row it
    replaces, or follows the rows when it replaces none."""
    if not as_printed:
        return [(f.table9_label, _value(column, f)) for f in rows]
    out: list[tuple[str, str]] = []
    placed: set[str] = set()
    for f in rows:
        replacing = [d for d in printed if f.row_id in d.replaces]
        for d in replacing:
            if d.discrepancy_id not in placed:
                out.append((d.table9_label, d.table9_printed))
                placed.add(d.discrepancy_id)
        if not replacing:
            out.append((f.table9_label, _value(column, f)))
    out.extend((d.table9_label, d.table9_printed) for d in printed if d.discrepancy_id not in placed)
    return out


def _value(column: str, f: PublishedFigure) -> str:
    # A component of the response (CR, CRi, CRp, marrow CR) prints as k/n (p%); a combined CR/CRi rate
    # prints as the percentage alone, as Table 9 does.
    if column == "CR/CRi" and f.table9_label == "CR/CRi":
        return f"{format(f.estimate, 'f')}%"
    return f.format_value()


def _lines(column: str, label: str, value: str) -> tuple[str, ...]:
    if column == "CR/CRi":
        return (label, value) if label else (value,)
    if column == "CD22 positivity":
        return (value, label) if label else (value,)
    return (value,)


def _study_label(study: Study) -> str:
    number = study.table9_number
    return f"{study.label} ({number})" if number else study.label
