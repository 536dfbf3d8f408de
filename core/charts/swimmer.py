"""Swimmer plot: one lane per patient from the first InO dose to death or last contact, coloured by
a chosen variable (best response by default), with markers for cycle starts, response, MRD
negativity, HSCT, VOD, relapse and the end of follow-up.

Real cohorts have a few patients followed for years and most for months, so the plot shows a time
window (by default the 90th percentile of follow-up, rounded up to a tick): lanes that go on beyond
it are cut at its edge and labelled with where they end; the whole lanes stay in the figure
(double-click the plot to see them). Markers that would cover each other on a lane are spread
across the lane's height, never moved in time. Long listings are drawn a page of lanes at a time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.charts.layout import finish, fitted_px, frame_for, message_figure, x_axis_block
from core.charts.risk_table import time_ticks
from core.charts.style import (
    OKABE_ITO,
    RESPONSE_COLOURS,
    RESPONSE_LABELS,
    ChartStyle,
    chart_style,
    rgba,
    text_px,
)
from core.contract import DAYS_PER_MONTH
from core.groupings import GROUPINGS, Grouping
from core.text import plotly_text

_SWIMMER_MARKERS: dict[str, tuple[str, str, str, float]] = {
    # role: (legend name, symbol, fill colour, size factor)
    "cycle": ("InO cycle start", "line-ns-open", "#000000", 0.9),
    "response": ("CR/CRi (first)", "diamond", "#000000", 1.1),
    "mrd": ("MRD negative (first)", "star", OKABE_ITO["yellow"], 1.3),
    "hsct": ("HSCT", "square", OKABE_ITO["bluish_green"], 1.0),
    "vod": ("VOD", "triangle-up", OKABE_ITO["orange"], 1.1),
    "relapse": ("Relapse", "hexagram", OKABE_ITO["reddish_purple"], 1.2),
    "death": ("Death", "x", "#000000", 1.2),
    "alive": ("Alive at last contact", "triangle-right", "#000000", 1.1),
    "lost": ("Lost to follow-up", "triangle-right-open", "#000000", 1.1),
}
_RESPONSE_RANK = {"CR": 0, "CRi": 1, "NR": 2, "not evaluable": 3}
# Variables a lane can be coloured (and grouped) by: listing columns that are groupings.
COLOUR_BY: tuple[str, ...] = ("best_response", "salvage_line", "hsct", "cycle1_dose_group", "ph_status",
                              "disease_status", "sex", "centre")
LANES_PER_PAGE = 60
WINDOW_QUANTILE = 0.9
_SLOT_SPREAD = 0.27     # lane units (1 = lane pitch): how far a marker may move off the lane's centre
_LANE_WIDTH = 0.62
_PAD = 0.02             # of the window, on each side of the time axis (a marker on day 0 is not cut)


def _is_missing(value: object) -> bool:
    """None, NaN, NaT or pd.NA (a listing cell from SQL NULL); text and flags are never missing."""
    return not isinstance(value, (str, bool)) and bool(pd.isna(value))


def _truthy(value: object) -> bool:
    """A listing flag as a plain bool; missing (NULL, pd.NA) counts as no."""
    return False if _is_missing(value) else bool(value)


def _fmt(value: object, suffix: str = "", missing: str = "not recorded") -> str:
    if _is_missing(value):
        return missing
    if isinstance(value, float):
        return f"{value:g}{suffix}"
    return f"{value}{suffix}"


def _outcome(row: pd.Series) -> str:
    if _truthy(row.get("os_event")):
        cause = row.get("death_cause")
        return f"died on day {_fmt(row.get('os_days'))}" + ("" if _is_missing(cause) else f" ({cause})")
    status = row.get("followup_status")
    status = "last contact" if _is_missing(status) else str(status)
    return f"{status}, day {_fmt(row.get('os_days'))}"


def _hover(row: pd.Series, end_months: float) -> str:
    """A lane's facts, each line escaped (ids, causes and statuses come from the file)."""
    lines = [
        f"Age {_fmt(row.get('age_years'), ' y')} · sex {_fmt(row.get('sex'))}",
        f"Salvage line {_fmt(row.get('salvage_line'))} · blasts {_fmt(row.get('blast_pct'), '%')}",
        f"Cycle-1 dose {_fmt(row.get('cycle1_dose_mg_m2'), ' mg/m²')} "
        f"(group {_fmt(row.get('cycle1_dose_group'))}) · {_fmt(row.get('n_cycles'))} cycle(s)",
        f"Best response {RESPONSE_LABELS.get(row['best_response'], row['best_response'])}"
        + ("" if _is_missing(row.get("mrd_negative")) else
           f" · MRD {'negative' if _truthy(row.get('mrd_negative')) else 'not negative'}"),
        f"HSCT {'yes' if _truthy(row.get('hsct')) else 'no'}",
        f"Outcome: {_outcome(row)}",
        f"Follow-up {end_months:.1f} mo",
    ]
    return "<br>".join([f"<b>{plotly_text(row['patient_id'])}</b>"] + [plotly_text(line) for line in lines])


def _swimmer_order(listing: pd.DataFrame, sort_by: str, ascending: bool | None) -> pd.DataFrame:
    if sort_by not in listing.columns:
        examples = ", ".join(c for c in ("os_days", "n_cycles", "best_response", "patient_id") if c in listing)
        raise ValueError(f"swimmer_figure: cannot sort by {sort_by!r}; choose a listing column such as {examples}")
    key = listing[sort_by]
    if sort_by == "best_response":
        key = key.map(lambda v: _RESPONSE_RANK.get(v, 9))
        default_ascending = True
    else:
        default_ascending = not (pd.api.types.is_numeric_dtype(key) or pd.api.types.is_bool_dtype(key)
                                 or pd.api.types.is_datetime64_any_dtype(key))
    asc = default_ascending if ascending is None else ascending
    frame = listing.assign(_key=key.astype(object) if key.dtype == bool else key,
                           _tie=pd.to_numeric(listing.get("os_days"), errors="coerce"))
    return frame.sort_values(["_key", "_tie", "patient_id"], ascending=[asc, False, True],
                             na_position="last", kind="mergesort").reset_index(drop=True)


def _colour_grouping(colour_by: str, listing: pd.DataFrame) -> Grouping:
    if colour_by not in COLOUR_BY or colour_by not in listing.columns:
        choices = ", ".join(c for c in COLOUR_BY if c in listing.columns)
        raise ValueError(f"swimmer_figure: cannot colour by {colour_by!r}; choose one of {choices}")
    return GROUPINGS[colour_by]


def _lane_value(value: object) -> object:
    """A listing cell as a category: missing values become None, numpy scalars plain Python."""
    if _is_missing(value):
        return None
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _category_label(by: Grouping, value: object) -> str:
    if by.key == "best_response":
        return RESPONSE_LABELS.get(str(value), str(value))
    return by.label(value)


def _category_colours(by: Grouping, values: list[object], style: ChartStyle) -> dict[object, str]:
    if by.key == "best_response":
        return {v: RESPONSE_COLOURS.get(str(v), "#999999") for v in values}
    present = [v for v in values if v is not None]
    colours = {v: style.colour(i) for i, v in enumerate(present)}
    colours[None] = "#999999"
    return colours


def _window(ends: list[float], window_months: float | None, most: int) -> tuple[list[float], float]:
    """(ticks, end of the time window): the requested window, else the 90th percentile of
    follow-up; both rounded up to a tick, and never beyond the longest lane."""
    longest = max(ends, default=0.0)
    wanted = float(np.percentile(ends, 100 * WINDOW_QUANTILE)) if window_months is None else float(window_months)
    wanted = min(wanted, longest) if math.isfinite(wanted) else longest
    return time_ticks(max(wanted, 1e-9), most=most)


def _spread(points: list[tuple[str, float]], min_gap: float) -> list[float]:
    """Vertical offsets (lane units) for markers on one lane at these (role, months), in order:
    markers closer in time than `min_gap` form a cluster and are spread across the lane's height,
    so that none covers its neighbour; a lone marker stays on the lane's centre line."""
    order = sorted(range(len(points)), key=lambda k: points[k][1])
    offsets = [0.0] * len(points)
    cluster: list[int] = []
    for k in [*order, None]:
        if k is not None and (not cluster or points[k][1] - points[cluster[-1]][1] < min_gap):
            cluster.append(k)
            continue
        # two: above and below; more: top, centre, bottom in turn, so neighbours never share a slot
        slots = (_SLOT_SPREAD, -_SLOT_SPREAD) if len(cluster) == 2 else (_SLOT_SPREAD, 0.0, -_SLOT_SPREAD)
        if len(cluster) > 1:
            for j, member in enumerate(cluster):
                offsets[member] = slots[j % len(slots)]
        cluster = [] if k is None else [k]
    return offsets


def swimmer_figure(listing: pd.DataFrame, events: pd.DataFrame, *, caption: str, sort_by: str = "os_days",
                   presenter: bool = False, ascending: bool | None = None,
                   title: str = "Course of treatment per patient", width_px: int | None = None,
                   window_months: float | None = None, colour_by: str = "best_response",
                   group_by: str | None = None, page: int = 1,
                   lanes_per_page: int | None = None) -> go.Figure:
    """One lane per patient from the first InO dose to death or last contact.

    `ascending=None` sorts numbers (os_days, n_cycles) largest first, best response CR → not
    evaluable and text (patient_id) A → Z; the first patient is the top lane. `window_months`
    (None: the 90th percentile of follow-up; `math.inf`: all of it) is the time the axis shows.
    `colour_by` names the variable lanes are coloured by (COLOUR_BY); `group_by` (the same
    choices) puts lanes in blocks of that variable, in clinical order. `page` (from 1) of
    `lanes_per_page` lanes (default LANES_PER_PAGE) is drawn. Ids and labels are plain text.
    """
    style = chart_style(presenter, width_px)
    if listing.empty:
        return message_figure("No patients in this slice.", title=title, caption=caption, n=0,
                              presenter=presenter, width_px=width_px)
    listing = listing.assign(best_response=listing["best_response"].where(listing["best_response"].notna(),
                                                                           "not evaluable"))
    colour = _colour_grouping(colour_by, listing)
    ordered = _swimmer_order(listing, sort_by, ascending)
    block = _colour_grouping(group_by, listing) if group_by is not None else None
    if block is not None:
        rank = ordered[block.key].map(lambda v: block.sort_key(_lane_value(v)))
        ordered = ordered.iloc[sorted(range(len(ordered)), key=lambda i: rank.iloc[i])].reset_index(drop=True)
    n = len(ordered)

    # ---- the page of lanes
    per_page = max(1, int(lanes_per_page or LANES_PER_PAGE))
    pages = max(1, math.ceil(n / per_page))
    page = min(max(1, int(page)), pages)
    shown = ordered.iloc[(page - 1) * per_page: page * per_page].reset_index(drop=True)
    if pages > 1:
        title = f"{title} — patients {(page - 1) * per_page + 1}–{(page - 1) * per_page + len(shown)} of {n}"
    # lanes top to bottom; with blocks, each block starts with a header slot holding its name
    lane_y: dict[str, float] = {}
    headers: list[tuple[float, str]] = []            # (y, escaped label)
    previous: object = object()
    for pid, v in zip(shown["patient_id"], shown[block.key] if block is not None else [None] * len(shown)):
        if block is not None and _lane_value(v) != previous:
            previous = _lane_value(v)
            headers.append((-float(len(lane_y) + len(headers)), plotly_text(_category_label(block, previous))))
        lane_y[pid] = -float(len(lane_y) + len(headers))
    slots = len(lane_y) + len(headers)
    ev = events.copy() if events is not None else pd.DataFrame(columns=["patient_id", "event_type", "day"])
    ev = ev[ev["patient_id"].isin(lane_y)]
    ev = ev.assign(day=pd.to_numeric(ev["day"], errors="coerce"))
    last_event_day = ev.groupby("patient_id")["day"].max()

    ends: dict[str, float] = {}
    for _, row in ordered.iterrows():
        days = pd.to_numeric(pd.Series([row.get("os_days")]), errors="coerce").iloc[0]
        if _is_missing(days):
            days = last_event_day.get(row["patient_id"], 0.0)
            days = 0.0 if _is_missing(days) else days
        ends[row["patient_id"]] = float(days) / DAYS_PER_MONTH
    ticks, x_end = _window(list(ends.values()), window_months, most=8 if style.presenter else 12)

    # ---- what the lanes show: colour categories, markers per kind, lanes beyond the window
    values = sorted({_lane_value(v) for v in shown[colour.key]}, key=colour.sort_key)
    colours = _category_colours(colour, values, style)

    def first_days(mask: pd.Series) -> list[tuple[str, float]]:
        rows = ev[mask & ev["day"].notna()]
        firsts = rows.groupby("patient_id")["day"].min()
        return [(p, float(d)) for p, d in firsts.items()]

    etype = ev["event_type"] if "event_type" in ev else pd.Series(dtype=object)
    marks: dict[str, list[tuple[str, float]]] = {}
    doses = ev[(etype == "ino_dose") & ev["day"].notna()]
    if len(doses):
        starts = doses.groupby(["patient_id", "cycle"])["day"].min().reset_index()
        marks["cycle"] = [(r.patient_id, float(r.day)) for r in starts.itertuples()]
    if "response" in ev:
        marks["response"] = first_days((etype == "response") & ev["response"].isin(["CR", "CRi"]))
    if "mrd" in ev:
        marks["mrd"] = first_days((etype == "mrd") & (ev["mrd"] == "negative"))
    marks["hsct"] = first_days(etype == "hsct")
    if "ae_term" in ev:
        marks["vod"] = first_days((etype == "adverse_event") & (ev["ae_term"] == "VOD"))
    marks["relapse"] = first_days(etype == "relapse")
    died = shown["os_event"].map(_truthy).astype(bool)
    marks["death"] = [(p, ends[p] * DAYS_PER_MONTH) for p in shown[died]["patient_id"]]
    censored = shown[~died]
    status = censored.get("followup_status", pd.Series(index=censored.index, dtype=object))
    marks["alive"] = [(p, ends[p] * DAYS_PER_MONTH) for p in censored[status != "lost to follow-up"]["patient_id"]]
    marks["lost"] = [(p, ends[p] * DAYS_PER_MONTH) for p in censored[status == "lost to follow-up"]["patient_id"]]
    beyond = [p for p in lane_y if ends[p] > x_end + 1e-9]
    continues_name = plotly_text(f"Continues beyond {x_end:g} mo")
    legend_names = [plotly_text(f"{colour.title}: {_category_label(colour, v)}") for v in values]
    legend_names += [_SWIMMER_MARKERS[role][0] for role in _SWIMMER_MARKERS if marks.get(role)]
    legend_names += [continues_name] if beyond else []

    # ---- sizes: lanes fitted under a presenter screen's height, markers no taller than half a lane
    # a tumour-board screen is wide and short: there the legend stands beside the lanes, not above
    legend_beside = style.presenter
    ticks_y = sorted([(y, plotly_text(p)) for p, y in lane_y.items()] + [(y, f"<b>{h}</b>") for y, h in headers],
                     reverse=True)
    tick_text = [t for _, t in ticks_y]
    label_px = max(text_px(t, style.tick_size) for t in tick_text) + 16
    continue_px = text_px("000 mo", style.annotation_size) + 20 if beyond else style.marker_size + 20
    legend_px = max(text_px(n, style.legend_size) for n in legend_names) + 50 if legend_beside else 0
    plot_w = max(200.0, style.nominal_width - label_px - continue_px - legend_px)
    frame = frame_for(style, title=title, caption=caption, bottom_px=x_axis_block(style),
                      legend=() if legend_beside else legend_names, legend_width_px=plot_w)
    fixed_px = frame.margin_top(style) + frame.margin_bottom(style)
    lanes_px = fitted_px(style, preferred=(slots + 0.6) * style.row_px * (0.8 if style.presenter else 0.85),
                         fixed=fixed_px, minimum=(slots + 0.6) * style.tick_size * 1.15)
    lane_px = lanes_px / (slots + 0.6)
    marker_cap = lane_px * 0.55

    fig = go.Figure()
    for name, value in zip(legend_names, values):
        part = shown[[_lane_value(v) == value for v in shown[colour.key]]]
        fill = colours.get(value, "#999999")
        fig.add_trace(go.Bar(
            x=[ends[p] for p in part["patient_id"]], y=[lane_y[p] for p in part["patient_id"]], base=0,
            orientation="h", width=_LANE_WIDTH, name=name, legendgroup="lanes",
            marker=dict(color=rgba(fill, 0.55), line=dict(color=fill, width=1)),
            customdata=[_hover(r, ends[r["patient_id"]]) for _, r in part.iterrows()],
            hovertemplate="%{customdata}<extra></extra>",
            meta={"role": "lane", "colour_by": colour.key, "value": value, colour.key: value,
                  "patients": list(part["patient_id"])},
        ))

    # ---- markers, spread per lane where they would cover each other (cycle starts stay centred)
    min_gap = marker_cap * 1.05 * x_end / plot_w          # months two markers' centres must be apart
    by_lane: dict[str, list[tuple[str, float]]] = {}
    for role, points in marks.items():
        if role != "cycle":
            for p, d in points:
                by_lane.setdefault(p, []).append((role, d / DAYS_PER_MONTH))
    offset: dict[tuple[str, str], float] = {}
    for p, points in by_lane.items():
        for (role, _), off in zip(points, _spread(points, min_gap)):
            offset[(role, p)] = off
    for role, (name, symbol, fill, factor) in _SWIMMER_MARKERS.items():
        points = marks.get(role, [])
        if not points:
            continue
        open_symbol = symbol.endswith("-open") or symbol.startswith("line")
        size = lane_px * 0.75 if role == "cycle" else min(style.marker_size * factor, marker_cap * factor / 1.3)
        fig.add_trace(go.Scatter(
            x=[d / DAYS_PER_MONTH for _, d in points], y=[lane_y[p] + offset.get((role, p), 0.0) for p, _ in points],
            mode="markers", name=name,
            marker=dict(symbol=symbol, size=size, color=fill,
                        line=dict(color="#000000", width=1.5 if open_symbol else 0.8)),
            customdata=[[plotly_text(p), int(d)] for p, d in points],
            hovertemplate=f"<b>%{{customdata[0]}}</b> · {name} · day %{{customdata[1]}} "
                          "(%{x:.1f} mo)<extra></extra>",
            meta={"role": role, "patients": [p for p, _ in points]},
        ))

    # ---- lanes that go on beyond the window: an arrow at its edge and where they end
    if beyond:
        fig.add_trace(go.Scatter(
            x=[x_end * (1 + _PAD)] * len(beyond), y=[lane_y[p] for p in beyond], mode="markers+text",
            name=continues_name,
            text=[f"  {ends[p]:.0f} mo" for p in beyond], textposition="middle right", cliponaxis=False,
            marker=dict(symbol="arrow-bar-right", size=min(style.marker_size * 1.2, marker_cap * 1.2),
                        color=style.text_colour, line=dict(color=style.text_colour, width=1.5)),
            textfont=dict(size=style.annotation_size, color=style.text_colour),
            customdata=[[plotly_text(p), round(ends[p], 1)] for p in beyond],
            hovertemplate="<b>%{customdata[0]}</b> · follow-up continues to %{customdata[1]} mo<extra></extra>",
            meta={"role": "continues", "patients": beyond, "window_months": x_end},
        ))

    # ---- blocks of lanes (group_by): a rule above each block after the first
    for y, _ in headers[1:]:
        fig.add_shape(name="swimmer-block-rule", type="line", xref="paper", x0=0, x1=1, yref="y",
                      y0=y + 0.5, y1=y + 0.5, line=dict(color=style.muted_colour, width=1, dash="dot"))

    fig.update_layout(barmode="overlay", bargap=0.3)
    pad = x_end * _PAD
    fig.update_xaxes(range=[-pad, x_end + pad], tickmode="array", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks],
                     title_text="Months since first InO dose", showline=True, ticks="outside", zeroline=False)
    fig.update_yaxes(tickmode="array", tickvals=[y for y, _ in ticks_y], ticktext=tick_text,
                     range=[-slots + 0.4, 0.6], showgrid=False, zeroline=False, fixedrange=True, ticks="")
    height = frame.margin_top(style) + lanes_px + frame.margin_bottom(style)
    fig = finish(fig, style, frame, title=title, caption=caption, n=n, height=height, margin_l=label_px,
                 margin_r=continue_px + legend_px, legend_top=not legend_beside)
    if legend_beside:     # after the "72 mo" labels of lanes that continue
        fig.update_layout(legend=dict(orientation="v", x=1 + continue_px / plot_w, xanchor="left", y=1,
                                      yanchor="top", traceorder="normal", tracegroupgap=2, itemsizing="constant"))
    return fig
