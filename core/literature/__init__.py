"""Published figures to compare the cohort with: the reference table, its discrepancies, Table 9.

The data are two CSV files in this folder (rules in README.md); the public names are re-exported
here so callers write `from core.literature import figures, table9_rows`. `comparison` turns
published figures into the cohort's result types (rates with CIs, survival points), `eligibility`
applies a study's eligibility to the cohort as a slice, and `frames` lays the literature out as tables.
"""

from __future__ import annotations

from core.literature.comparison import (
    PUBLISHED_LABEL,
    PUBLISHED_SECTION,
    NotDrawn,
    PublishedPoint,
    PublishedRates,
    published_cr_cri,
    published_rates,
    published_survival_points,
)
from core.literature.eligibility import ComparableSlice, Criterion, comparable_slice, comparable_slices
from core.literature.reference import (
    DISCREPANCIES_PATH,
    REFERENCE_PATH,
    Discrepancy,
    PublishedFigure,
    ReferenceFileError,
    Source,
    Study,
    discrepancies,
    figure,
    figures,
    integrity_problems,
    percent_consistent,
    read_discrepancies,
    read_reference,
    studies,
    study_keys,
)
from core.literature.table9 import TABLE9_HEADER, TABLE9_STUDIES, Table9Row, table9_rows

__all__ = [
    "PUBLISHED_LABEL", "PUBLISHED_SECTION", "ComparableSlice", "Criterion", "NotDrawn", "PublishedPoint",
    "PublishedRates", "comparable_slice", "comparable_slices", "published_cr_cri", "published_rates",
    "published_survival_points",
    "DISCREPANCIES_PATH", "REFERENCE_PATH", "TABLE9_HEADER", "TABLE9_STUDIES", "Discrepancy", "PublishedFigure",
    "ReferenceFileError", "Source", "Study", "Table9Row", "discrepancies", "figure", "figures",
    "integrity_problems", "percent_consistent", "read_discrepancies", "read_reference", "studies", "study_keys",
    "table9_rows",
]
