"""Swimmer plot: one lane per patient from the first InO dose to death or last contact, coloured by
best response, with markers for cycle starts, response, MRD negativity, HSCT, VOD, relapse and the
end of follow-up."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from core.charts.layout import finish, frame_for, message_figure, x_axis_block
from core.charts.style import OKABE_ITO, RESPONSE_COLOURS, RESPONSE_LABELS, chart_style, rgba, text_px
from core.contract import DAYS_PER_MONTH

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
# MRD is usually assessed with the response: draw it on the lane's upper edge so both stay visible.
_SWIMMER_OFFSETS: dict[str, float] = {"mrd": 0.3}
_RESPONSE_RANK = {"CR": 0, "CRi": 1, "NR": 2, "not evaluable": 3}


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


def swimmer_figure(listing: pd.DataFrame, events: pd.DataFrame, *, caption: str, sort_by: str = "os_days",
                   presenter: bool = False, ascending: bool | None = None,
                   title: str = "Course of treatment per patient", width_px: int | None = None) -> go.Figure:
    """One lane per patient from the first InO dose to death or last contact, coloured by best response.

    `ascending=None` sorts numbers (os_days, n_cycles) largest first, best response CR → not
    evaluable and text (patient_id) A → Z; the first patient is the top lane.
    """
    style = chart_style(presenter, width_px)
    if listing.empty:
        return message_figure("No patients in this slice.", title=title, caption=caption, n=0,
                              presenter=presenter, width_px=width_px)
    listing = listing.assign(best_response=listing["best_response"].where(listing["best_response"].notna(),
                                                                           "not evaluable"))
    ordered = _swimmer_order(listing, sort_by, ascending)
    lane_y = {pid: -float(i) for i, pid in enumerate(ordered["patient_id"])}
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

    fig = go.Figure()
    legend_names: list[str] = []
    present = [r for r in _RESPONSE_RANK if (ordered["best_response"] == r).any()]
    others = sorted(set(ordered["best_response"].dropna()) - set(_RESPONSE_RANK))
    for response in present + others:
        part = ordered[ordered["best_response"] == response]
        name = f"Best response: {RESPONSE_LABELS.get(response, response)}"
        legend_names.append(name)
        hover = [
            "<br>".join([
                f"<b>{r['patient_id']}</b>",
                f"Age {_fmt(r.get('age_years'), ' y')} · sex {_fmt(r.get('sex'))}",
                f"Salvage line {_fmt(r.get('salvage_line'))} · blasts {_fmt(r.get('blast_pct'), '%')}",
                f"Cycle-1 dose {_fmt(r.get('cycle1_dose_mg_m2'), ' mg/m²')} "
                f"(group {_fmt(r.get('cycle1_dose_group'))}) · {_fmt(r.get('n_cycles'))} cycle(s)",
                f"Best response {RESPONSE_LABELS.get(r['best_response'], r['best_response'])}"
                + ("" if _is_missing(r.get("mrd_negative")) else
                   f" · MRD {'negative' if _truthy(r.get('mrd_negative')) else 'not negative'}"),
                f"HSCT {'yes' if _truthy(r.get('hsct')) else 'no'}",
                f"Outcome: {_outcome(r)}",
            ]) for _, r in part.iterrows()]
        fig.add_trace(go.Bar(
            x=[ends[p] for p in part["patient_id"]], y=[lane_y[p] for p in part["patient_id"]], base=0,
            orientation="h", width=0.62, name=name, legendgroup="lanes",
            marker=dict(color=rgba(RESPONSE_COLOURS.get(response, "#999999"), 0.55),
                        line=dict(color=RESPONSE_COLOURS.get(response, "#999999"), width=1)),
            customdata=hover, hovertemplate="%{customdata}<extra></extra>",
            meta={"role": "lane", "best_response": response, "patients": list(part["patient_id"])},
        ))

    def marker_trace(role: str, points: list[tuple[str, float]], detail: str = "") -> None:
        if not points:
            return
        name, symbol, fill, factor = _SWIMMER_MARKERS[role]
        offset = _SWIMMER_OFFSETS.get(role, 0.0)
        legend_names.append(name)
        open_symbol = symbol.endswith("-open") or symbol.startswith("line")
        size = style.marker_size * factor
        fig.add_trace(go.Scatter(
            x=[d / DAYS_PER_MONTH for _, d in points], y=[lane_y[p] + offset for p, _ in points], mode="markers",
            name=name,
            cliponaxis=False,
            marker=dict(symbol=symbol, size=size, color=fill,
                        line=dict(color="#000000", width=1.5 if open_symbol else 0.8)),
            customdata=[[p, int(d)] for p, d in points],
            hovertemplate=f"<b>%{{customdata[0]}}</b> · {name}{detail} · day %{{customdata[1]}} "
                          "(%{x:.1f} mo)<extra></extra>",
            meta={"role": role, "patients": [p for p, _ in points]},
        ))

    def first_days(mask: pd.Series) -> list[tuple[str, float]]:
        rows = ev[mask & ev["day"].notna()]
        firsts = rows.groupby("patient_id")["day"].min()
        return [(p, float(d)) for p, d in firsts.items()]

    etype = ev["event_type"] if "event_type" in ev else pd.Series(dtype=object)
    doses = ev[(etype == "ino_dose") & ev["day"].notna()]
    if len(doses):
        starts = doses.groupby(["patient_id", "cycle"])["day"].min().reset_index()
        marker_trace("cycle", [(r.patient_id, float(r.day)) for r in starts.itertuples()])
    if "response" in ev:
        marker_trace("response", first_days((etype == "response") & ev["response"].isin(["CR", "CRi"])))
    if "mrd" in ev:
        marker_trace("mrd", first_days((etype == "mrd") & (ev["mrd"] == "negative")))
    marker_trace("hsct", first_days(etype == "hsct"))
    if "ae_term" in ev:
        marker_trace("vod", first_days((etype == "adverse_event") & (ev["ae_term"] == "VOD")))
    marker_trace("relapse", first_days(etype == "relapse"))

    died = ordered["os_event"].map(_truthy).astype(bool)
    dead = ordered[died]
    marker_trace("death", [(p, ends[p] * DAYS_PER_MONTH) for p in dead["patient_id"]])
    censored = ordered[~died]
    status = censored.get("followup_status", pd.Series(index=censored.index, dtype=object))
    lost = censored[status == "lost to follow-up"]
    alive = censored[status != "lost to follow-up"]
    marker_trace("alive", [(p, ends[p] * DAYS_PER_MONTH) for p in alive["patient_id"]])
    marker_trace("lost", [(p, ends[p] * DAYS_PER_MONTH) for p in lost["patient_id"]])

    n = len(ordered)
    x_max = max(ends.values()) if ends else 1.0
    step = 3.0 if x_max <= 36 else 6.0
    fig.update_layout(barmode="overlay", bargap=0.3)
    fig.update_xaxes(range=[0, max(step, math.ceil(x_max / step) * step) + step * 0.15], dtick=step,
                     title_text="Months since first InO dose", showline=True, ticks="outside", zeroline=False)
    fig.update_yaxes(tickmode="array", tickvals=list(lane_y.values()), ticktext=list(lane_y),
                     range=[-n + 0.4, 0.6], showgrid=False, zeroline=False, fixedrange=True, ticks="")
    frame = frame_for(style, title=title, caption=caption, bottom_px=x_axis_block(style))
    lane_px = style.row_px * (0.8 if style.presenter else 0.85)
    height = frame.margin_top(style) + (n + 0.6) * lane_px + frame.margin_bottom(style)
    label_px = max(text_px(str(p), style.tick_size) for p in lane_y) + 16
    fig = finish(fig, style, frame, title=title, caption=caption, n=n, height=height, margin_l=label_px,
                  margin_r=style.marker_size + 20, legend_top=False)
    # many marker kinds: a vertical legend beside the lanes (plotly widens the right margin for it)
    fig.update_layout(legend=dict(orientation="v", x=1.01, xanchor="left", y=1, yanchor="top",
                                  traceorder="normal", tracegroupgap=4, itemsizing="constant"))
    return fig
