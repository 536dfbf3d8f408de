"""Small-count suppression of exported figures and tables (`Provenance.suppress_below`).

In exported tables and the deck's tables, patient counts from 1 to threshold − 1 are printed as
"<5" (default threshold 5 when on); in a row where a count was suppressed, the percentage and CI
cells are blanked too, so the count cannot be recomputed from them. It is primary suppression only
(a small count may still follow from a total minus the others). Zero stays 0. Patient-level
exports (listing, slice data) are refused while suppression is on (`RowLevelExportBlocked`), and
the deck leaves out the swimmer plot; chart images get the same text suppression
(`suppress_figure_counts`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.provenance import DEFAULT_SUPPRESSION_THRESHOLD, Provenance

SUPPRESSED = "suppressed"


class RowLevelExportBlocked(ValueError):
    """Patient-level rows cannot be exported while small-cell suppression is on."""


def refuse_row_level(provenance: Provenance) -> None:
    """Raise RowLevelExportBlocked when the export would show individual patients under suppression."""
    if provenance.suppress_below is not None:
        raise RowLevelExportBlocked(
            f"Small-cell suppression (<{provenance.suppress_below}) is on: patient-level rows cannot be exported. "
            "Turn suppression off to export them, and share them only as your data agreement allows.")


def _small(k: int, threshold: int) -> bool:
    return 1 <= k < threshold


# ---------------------------------------------------------------------------- figures
_FRACTION = re.compile(r"(?<![Gg]rade )\b(\d+)(\s*/\s*)(\d+)\b")      # "grade 3/4" is a CTCAE range, not a count
_N_EQUALS = re.compile(r"\b([nN]\s*=\s*)(\d+)\b")
_PERCENT = re.compile(r"\b\d+(?:\.\d+)?\s*%(?!\s*CI)")
_CI_RANGE = re.compile(r"\(\s*\d+%\s*CI[^)]*\)")


def _suppress_text(text: str, threshold: int) -> str:
    """"3/18 · 16.7% (95% CI …)" → "&lt;5/18 · –%"; plotly text is HTML-like, so "<" is escaped."""
    hit = False
    small = f"&lt;{threshold}"

    def fraction(m: re.Match[str]) -> str:
        nonlocal hit
        k, n = int(m.group(1)), int(m.group(3))
        if _small(k, threshold) or _small(n, threshold):
            hit = True
        ks = small if _small(k, threshold) else m.group(1)
        ns = small if _small(n, threshold) else m.group(3)
        return f"{ks}{m.group(2)}{ns}"

    def n_equals(m: re.Match[str]) -> str:
        nonlocal hit
        if _small(int(m.group(2)), threshold):
            hit = True
            return f"{m.group(1)}{small}"
        return m.group(0)

    out = _N_EQUALS.sub(n_equals, _FRACTION.sub(fraction, text))
    if hit:
        out = _PERCENT.sub("–%", _CI_RANGE.sub("", out))
    return out


_NUMERIC_LABEL = re.compile(r"^\s*(?:<[^>]+>)*\s*\d+(?:\.\d+)?\s*%?\s*(?:\([^)]*\))?\s*(?:<[^>]+>)*\s*$")


def suppress_figure_counts(fig: go.Figure, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> go.Figure:
    """A copy of `fig` whose printed counts 1…threshold−1 read "<threshold".

    Handles "k/N" and "n = k" in trace text, names, tick labels and annotations, and the
    number-at-risk table of a Kaplan–Meier figure. Where a count is suppressed, percentages in the
    same label, and number-only labels on the same row (a forest plot's "% (95% CI)" column), read
    "–". Marker positions and bar lengths are not changed.
    """
    out = go.Figure(fig)
    hit_rows: set[tuple[str, Any]] = set()

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            return _suppress_text(value, threshold)
        if isinstance(value, (list, tuple)):
            return [fix(v) for v in value]
        return value

    for trace in out.data:
        role = trace.meta.get("role") if isinstance(trace.meta, dict) else None
        text = getattr(trace, "text", None)
        if isinstance(text, (list, tuple)):
            ys = list(getattr(trace, "y", None) or [None] * len(text))
            new = []
            for i, v in enumerate(text):
                if role == "at_risk_table":
                    nv = f"&lt;{threshold}" if str(v).strip().isdigit() and _small(int(v), threshold) else v
                else:
                    nv = fix(v)
                if nv != v and i < len(ys):
                    hit_rows.add(("trace", ys[i]))
                new.append(nv)
            trace.text = new
        elif isinstance(text, str):
            trace.text = fix(text)
        if getattr(trace, "name", None):
            trace.name = fix(trace.name)
    for annotation in out.layout.annotations:
        if annotation.text and annotation.name != "provenance":
            new_text = fix(annotation.text)
            if new_text != annotation.text:
                hit_rows.add((str(annotation.yref), annotation.y))
                annotation.text = new_text
    # number-only labels on a row whose count was suppressed
    for annotation in out.layout.annotations:
        if ((str(annotation.yref), annotation.y) in hit_rows and annotation.text
                and _NUMERIC_LABEL.match(annotation.text)):
            annotation.text = "–"
    for axis_name in [k for k in out.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        axis = out.layout[axis_name]
        if axis.ticktext is not None:
            axis.ticktext = fix(list(axis.ticktext))
    if out.layout.title.text:
        out.layout.title.text = fix(out.layout.title.text)
    return out


# ---------------------------------------------------------------------------- tables
_COUNT_COLUMN = re.compile(
    r"^(n\b|count|events|deaths|censored|at risk|patients|responders|excluded|after[ _]hsct|n_rows|"
    r"n_with_counts|n_meeting|number|n_events|at_risk_|denominator)", re.IGNORECASE)
# numeric columns are snake_case (survival_6mo_lower), where \b does not split words
_MASK_COLUMN = re.compile(r"%|\bci\b|percent|share|rate|estimate|(?:^|_)(?:lower|upper)(?:_|$)|^survival_|^median_",
                          re.IGNORECASE)
_CELL_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)(.*)$", re.DOTALL)
_CELL_COUNT_PCT = re.compile(r"^\s*(\d+)\s*\(([^)]*)\)\s*$")
_CELL_INT = re.compile(r"^\s*(\d+)\s*$")


def _is_int_value(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer()


def suppress_small_counts(frame: pd.DataFrame, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD, *,
                          count_columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A copy in which patient counts 1…threshold−1 read "<threshold" (see the module docstring).

    Counts are found in: whole numbers in count columns (named n, N (%), events, deaths, …, or
    `count_columns`), and anywhere as text "k/N …" or "k (p)". In a row with a suppressed count the
    percentage / CI cells are set to "suppressed".
    """
    out = frame.copy().astype(object)
    counted = set(count_columns) if count_columns is not None else {
        c for c in out.columns if _COUNT_COLUMN.match(str(c).strip())}
    small = f"<{threshold}"
    for i in range(len(out)):
        touched: set[Any] = set()
        hit = False
        for column in out.columns:
            value = out.iat[i, out.columns.get_loc(column)]
            new = value
            if column in counted and _is_int_value(value):
                if _small(int(value), threshold):
                    new = small
            elif isinstance(value, str):
                if m := _CELL_FRACTION.match(value):
                    k, n = int(m.group(1)), int(m.group(2))
                    if _small(k, threshold) or _small(n, threshold):
                        ks = small if _small(k, threshold) else str(k)
                        ns = small if _small(n, threshold) else str(n)
                        new = f"{ks}/{ns}" if _small(k, threshold) else f"{ks}/{ns}{m.group(3)}"
                elif (m := _CELL_COUNT_PCT.match(value)) and _small(int(m.group(1)), threshold):
                    new = small
                elif column in counted and (m := _CELL_INT.match(value)) and _small(int(m.group(1)), threshold):
                    new = small
            if new is not value:
                out.iat[i, out.columns.get_loc(column)] = new
                touched.add(column)
                hit = True
        if hit:
            for column in out.columns:
                if column not in touched and column not in counted and _MASK_COLUMN.search(str(column)):
                    if out.iat[i, out.columns.get_loc(column)] not in (None, "", "—"):
                        out.iat[i, out.columns.get_loc(column)] = SUPPRESSED
    return out
