"""The time axis and the number-at-risk table of a time-to-event chart.

The table follows KMunicate (Morris et al., BMJ Open 2019): per group the numbers at risk, and the
cumulative events and censorings, printed under the labelled ticks of the time axis, so that the
curve and the table are read against the same times. The numbers come from the fitted curve's
`at_risk_table`; beyond the last time of a curve's table and of its follow-up nobody is at risk
and every event and censoring has happened, so those cells are read off the curve's totals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.charts.style import ChartStyle
from core.survival import SurvivalCurve

# Tick spacings in months, the finest first: a clinician reads 3-monthly visits, then half-years,
# years, two-year and five-year steps.
TICK_STEPS: tuple[float, ...] = (3.0, 6.0, 12.0, 24.0, 60.0, 120.0)
TABLE_KINDS: tuple[str, ...] = ("At risk", "Events", "Censored")


def follow_up_extent(curves: Sequence[SurvivalCurve]) -> float:
    """The longest follow-up drawn: the last time (event or censoring) of any curve, in months."""
    return max((float(c.timeline[-1]) for c in curves if c.timeline), default=0.0)


def time_ticks(extent: float, *, most: int = 10, horizon: float | None = None) -> tuple[list[float], float]:
    """(ticks, axis end) for a time axis in months.

    Without a `horizon` the axis ends at `extent` (the longest follow-up) rounded up to the next
    tick, so the chart spends its width on data; with one, it ends at the horizon and the ticks
    stop at or before it. At most `most` ticks after 0, spaced by the finest of TICK_STEPS that allows.
    """
    span = float(horizon) if horizon is not None else max(float(extent), 0.0)
    step = TICK_STEPS[-1]
    for candidate in TICK_STEPS:
        if math.ceil(span / candidate - 1e-9) <= most:
            step = candidate
            break
    if horizon is not None:
        end = float(horizon)
        last = math.floor(end / step + 1e-9) * step
    else:
        last = max(step, math.ceil(span / step - 1e-9) * step)
        end = last
    ticks = [float(t) for t in np.arange(0.0, last + step / 2, step)]
    return ticks, end


def table_value(curve: SurvivalCurve, kind: str, months: float) -> int | None:
    """The table's number for `curve` at `months`, or None when the table has no such time."""
    table = curve.at_risk_table
    values = {"At risk": table.at_risk, "Events": table.events, "Censored": table.censored}[kind]
    for m, v in zip(table.months, values):
        if math.isclose(m, months, abs_tol=1e-9):
            return int(v)
    beyond_table = not table.months or months > table.months[-1]
    if beyond_table and curve.timeline and months >= curve.timeline[-1]:
        return {"At risk": 0, "Events": curve.events, "Censored": curve.censored}[kind]
    return None


LABEL_CHARS = 28     # a group's name in the table and notes; the legend carries it whole


def short_label(label: str, limit: int = LABEL_CHARS) -> str:
    """Plain `label` cut to `limit` characters with "…", so a long centre name cannot take the
    chart's width from its curves."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class TableRow:
    """One line of the table: a group's header (kind "") or one kind of count for a group."""

    curve: int          # index of the curve
    kind: str           # "" (header) or one of TABLE_KINDS
    label: str          # the row's label as shown (escaped, may hold <b>)


def table_rows(labels: Sequence[str], *, merge_headers: bool) -> list[TableRow]:
    """The rows for curves with these (escaped) labels, top to bottom.

    One curve: At risk, Events, Censored. Several: a bold header per group and its three rows, or,
    with `merge_headers` (presenter mode, where height is scarce), the group's name on its At risk row.
    """
    if len(labels) == 1:
        return [TableRow(0, kind, kind) for kind in TABLE_KINDS]
    rows: list[TableRow] = []
    for i, label in enumerate(labels):
        if merge_headers:
            rows.append(TableRow(i, TABLE_KINDS[0], f"<b>{label}</b> · {TABLE_KINDS[0]}"))
        else:
            rows.append(TableRow(i, "", f"<b>{label}</b>"))
            rows.append(TableRow(i, TABLE_KINDS[0], TABLE_KINDS[0]))
        rows += [TableRow(i, kind, kind) for kind in TABLE_KINDS[1:]]
    return rows


def table_row_px(style: ChartStyle) -> float:
    """The pitch of the table's lines: tight on a tumour-board screen, airy on the dashboard."""
    return style.table_size * (1.15 if style.presenter else 1.55)
