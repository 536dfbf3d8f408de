"""The cut-point explorer on its page: cached scans, the best split on request, tables of each side.

The best split is computed only when asked for ("Which threshold separates best?"), and shown for
as long as the variable, the outcome and the slice stay those it was asked for. Widget keys start
with `c_`; "Use as the sidebar's blast threshold" sets the sidebar's `f_blast_threshold` in a
callback, so the sidebar reads it on the rerun.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from core.contract import DEFAULT_BLAST_THRESHOLD
from core.cutpoints import BestCutpoint, CutpointRow, CutpointScan, OsLandmarks, Outcome, best_cutpoint, cutpoint_scan
from core.filters import FilterSpec
from core.groupings import format_number
from core.response import SubgroupRate
from core.results import TooFewPatients
from ui import display, loaders
from ui.loaders import CohortRef
from ui.sidebar import BLAST_THRESHOLD_LIMITS

BEST_REQUEST_KEY = "_c_best_request"
THRESHOLD_SET_KEY = "_c_threshold_set"


@st.cache_data(show_spinner=False, max_entries=128)
def load_cutpoint_scan(ref: CohortRef, spec: FilterSpec, variable: str) -> CutpointScan:
    return cutpoint_scan(loaders.cohort(ref), spec, variable)


@st.cache_data(show_spinner="Trying every threshold and permuting the outcomes…", max_entries=128)
def load_best_cutpoint(ref: CohortRef, spec: FilterSpec, variable: str, outcome: Outcome) -> BestCutpoint | TooFewPatients:
    return best_cutpoint(loaders.cohort(ref), spec, variable, outcome=outcome)


# ---------------------------------------------------------------------------------------------- requests
def _patients_of(spec: FilterSpec) -> FilterSpec:
    """The spec up to what selects no one: the blast threshold matters only with a blast-burden filter
    (so using the best split as the threshold keeps the best split shown)."""
    return spec if spec.blast_burden != "all" else replace(spec, blast_threshold=DEFAULT_BLAST_THRESHOLD)


def request_best(variable: str, outcome: str, spec: FilterSpec) -> None:
    """Callback of "Which threshold separates best?": remember what was asked, for this slice."""
    st.session_state[BEST_REQUEST_KEY] = (variable, outcome, _patients_of(spec))


def requested_best(variable: str, outcome: str, spec: FilterSpec) -> bool:
    return st.session_state.get(BEST_REQUEST_KEY) == (variable, outcome, _patients_of(spec))


def use_as_blast_threshold(threshold: float) -> None:
    """Callback: the sidebar's blast threshold (within what its box accepts) set to `threshold`."""
    lo, hi = BLAST_THRESHOLD_LIMITS
    st.session_state["f_blast_threshold"] = float(min(max(threshold, lo), hi))
    st.session_state[THRESHOLD_SET_KEY] = float(min(max(threshold, lo), hi))


def threshold_notice() -> float | None:
    """The threshold just set by the button (once), for a confirmation on the page."""
    return st.session_state.pop(THRESHOLD_SET_KEY, None)


# ---------------------------------------------------------------------------------------------- tables
def side_rates(row: CutpointRow) -> list[SubgroupRate]:
    """The two sides' CR/CRi as subgroup rates (the Response page's table format)."""
    return [SubgroupRate(grouping="cutpoint", value="below", label=row.label_below, rate=row.cr_cri_below),
            SubgroupRate(grouping="cutpoint", value="above", label=row.label_above, rate=row.cr_cri_above)]


def _landmark_text(side: OsLandmarks | TooFewPatients, months: float) -> str:
    if isinstance(side, TooFewPatients):
        return f"{display.DASH} ({side.reason})"
    return display.landmark_text(side.at(months))


def side_os_table(row: CutpointRow, landmark_months: tuple[float, ...], title: str) -> pd.DataFrame:
    """OS at each landmark on each side (Kaplan–Meier, the Survival page's format)."""
    out = []
    for label, side in ((row.label_below, row.os_below), (row.label_above, row.os_above)):
        record: dict[str, object] = {title: label, "n": side.n}
        for months in landmark_months:
            record[f"OS at {months:g} months (95% CI)"] = _landmark_text(side, months)
        out.append(record)
    return pd.DataFrame(out)


def scan_table(scan: CutpointScan) -> pd.DataFrame:
    """Every threshold: n and each figure on both sides (the reference threshold marked)."""
    rows = []
    for row in scan.rows:
        record: dict[str, object] = {
            f"Threshold ({scan.unit})": format_number(row.threshold) + (f" ({scan.reference_label})"
                                                                       if row.is_reference else ""),
            "n below": row.n_below, "n at or above": row.n_above,
            "CR/CRi below": display.proportion_text(row.cr_cri_below),
            "CR/CRi at or above": display.proportion_text(row.cr_cri_above)}
        for months in scan.landmark_months:
            record[f"OS {months:g} mo below"] = _landmark_text(row.os_below, months)
            record[f"OS {months:g} mo at or above"] = _landmark_text(row.os_above, months)
        rows.append(record)
    return pd.DataFrame(rows)


def best_table(best: BestCutpoint) -> pd.DataFrame:
    """The best split in figures: threshold, n each side, the statistic and both p-values."""
    return pd.DataFrame([
        {"": "Split", "Value": f"{best.at_threshold.label_below} vs {best.at_threshold.label_above}"},
        {"": "Patients below / at or above", "Value": f"{best.n_below} / {best.n_above} (of {best.n} tested)"},
        {"": "Maximally selected statistic", "Value": f"{best.statistic:.2f}"},
        {"": "p-value, corrected for the search", "Value": f"{best.p_value:.3g}"},
        {"": "p-value a single test would give (too small)", "Value": f"{best.p_value_unadjusted:.3g}"},
        {"": "Thresholds tried", "Value": f"{len(best.candidates)} (each leaving {best.min_prop:.0%}–"
                                          f"{best.max_prop:.0%} of the patients below)"},
    ])
