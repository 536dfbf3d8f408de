"""Published figures to compare the cohort with: the reference table, its discrepancies, Table 9.

The data are two CSV files in this folder (rules in README.md); the public names are re-exported
here so callers write `from core.literature import figures, table9_rows`.
"""

from __future__ import annotations

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
    "DISCREPANCIES_PATH", "REFERENCE_PATH", "TABLE9_HEADER", "TABLE9_STUDIES", "Discrepancy", "PublishedFigure",
    "ReferenceFileError", "Source", "Study", "Table9Row", "discrepancies", "figure", "figures",
    "integrity_problems", "percent_consistent", "read_discrepancies", "read_reference", "studies", "study_keys",
    "table9_rows",
]
