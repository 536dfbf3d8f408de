"""The Data cuts page's loaders: the cohorts with more than one cut, and the comparison of two cuts.

The comparison is cached on both files' paths and modification times, so a rerun (a new choice of
widgets elsewhere on the page) does not recompute it, and a rebuilt file is read again.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.cohorts import CohortInfo, list_cohorts
from core.cuts import CutComparison, compare_cuts
from core.database import open_cohort


def lineages_with_cuts() -> dict[str, list[CohortInfo]]:
    """lineage → its cuts, first cut first: only the imported cohorts that have a second cut."""
    found: dict[str, list[CohortInfo]] = {}
    for info in list_cohorts(all_cuts=True):
        if not info.is_default:
            found.setdefault(info.lineage, []).append(info)
    return {lineage: sorted(cuts, key=lambda c: (c.cut, c.imported_at))
            for lineage, cuts in found.items() if len(cuts) > 1}


@st.cache_data(show_spinner="Comparing the two cuts…", max_entries=8)
def _comparison(earlier: str, earlier_mtime: float, later: str, later_mtime: float) -> CutComparison:
    a, b = open_cohort(earlier), open_cohort(later)
    try:
        return compare_cuts(a, b)
    finally:
        a.close()
        b.close()


def load_comparison(earlier: Path, later: Path) -> CutComparison:
    return _comparison(str(earlier), earlier.stat().st_mtime, str(later), later.stat().st_mtime)
