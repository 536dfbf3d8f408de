"""Safety views the paper discusses: when VOD happened relative to HSCT (§4.3.7: 5 of the 7
patients with VOD developed it after HSCT) and the causes of death (§4.3.8, Table 8), each death
split by whether the patient had had an HSCT."""

from __future__ import annotations

from dataclasses import replace

import plotly.graph_objects as go

from core.charts.layout import finish, fitted_px, frame_for, message_figure, x_axis_block
from core.charts.style import OKABE_ITO, chart_style, rgba, text_px
from core.results import ProportionEstimate, format_percent
from core.safety import VOD_AFTER_HSCT, VOD_BEFORE_HSCT, VOD_TIMINGS, VOD_WITHOUT_HSCT, DeathSummary, VodTiming
from core.text import plotly_text

_TIMING_LABELS = {VOD_AFTER_HSCT: "After HSCT", VOD_BEFORE_HSCT: "Before HSCT", VOD_WITHOUT_HSCT: "No HSCT"}
_TIMING_COLOURS = {VOD_AFTER_HSCT: OKABE_ITO["blue"], VOD_BEFORE_HSCT: OKABE_ITO["orange"],
                   VOD_WITHOUT_HSCT: "#777777"}
_SPREAD = 0.32          # row units: how far dots of one row may move off its centre line


def _spread(days: list[int], min_gap: float) -> list[float]:
    """Vertical offsets for dots at these days (in order): dots closer than `min_gap` are spread
    evenly across the row's height, never moved along the time axis."""
    order = sorted(range(len(days)), key=lambda k: days[k])
    offsets = [0.0] * len(days)
    cluster: list[int] = []
    for k in [*order, None]:
        if k is not None and (not cluster or days[k] - days[cluster[-1]] < min_gap):
            cluster.append(k)
            continue
        if len(cluster) > 1:
            for j, member in enumerate(cluster):
                offsets[member] = _SPREAD - 2 * _SPREAD * j / (len(cluster) - 1)
        cluster = [] if k is None else [k]
    return offsets


def vod_timing_figure(timing: VodTiming, *, caption: str, presenter: bool = False,
                      title: str = "VOD relative to HSCT", width_px: int | None = None) -> go.Figure:
    """One dot per patient with VOD at the days from HSCT to VOD (0 = the day of HSCT), in rows
    after / before HSCT, each row labelled with its count among the patients with VOD; patients
    with VOD but no HSCT are counted on a row of their own (there is no HSCT to time them against)."""
    style = chart_style(presenter, width_px)
    if not timing.cases:
        return message_figure("No patient with VOD in this slice.", title=title, caption=caption, n=0,
                              presenter=presenter, width_px=width_px)
    n = timing.n_vod
    rows = {t: -float(i) for i, t in enumerate(VOD_TIMINGS)}
    dated = [c for c in timing.cases if c.days_from_hsct is not None]
    reach = max([abs(c.days_from_hsct) for c in dated if c.days_from_hsct is not None] + [7])
    step = next((s for s in (7, 14, 28, 56, 91, 182, 365) if reach / s <= 4), 365)
    limit = step * (int(reach // step) + 1)
    plot_w = max(200.0, style.nominal_width - 260)
    min_gap = style.marker_size * 1.4 * (2 * limit) / plot_w

    fig = go.Figure()
    fig.add_shape(name="vod-before-hsct", type="rect", xref="x", x0=-limit, x1=0, yref="paper", y0=0, y1=1,
                  fillcolor=rgba(OKABE_ITO["orange"], 0.07), line=dict(width=0), layer="below")
    fig.add_shape(name="vod-hsct-day", type="line", xref="x", x0=0, x1=0, yref="paper", y0=0, y1=1,
                  line=dict(color=style.text_colour, width=max(1.0, style.line_width * 0.7), dash="dash"))
    for text, x, anchor in (("before HSCT", -limit, "left"), ("HSCT", 0, "center"), ("after HSCT", limit, "right")):
        fig.add_annotation(name="vod-axis-note", text=text, showarrow=False, xref="x", x=x, xanchor=anchor,
                           yref="paper", y=1, yanchor="bottom", font=dict(size=style.annotation_size,
                                                                         color=style.muted_colour))
    for key in (VOD_AFTER_HSCT, VOD_BEFORE_HSCT):
        cases = [c for c in dated if c.timing == key]
        if not cases:
            continue
        days = [int(c.days_from_hsct) for c in cases]      # type: ignore[arg-type]
        offsets = _spread(days, min_gap)
        fig.add_trace(go.Scatter(
            x=days, y=[rows[key] + o for o in offsets], mode="markers", name=_TIMING_LABELS[key], showlegend=False,
            marker=dict(symbol="triangle-up", size=style.marker_size + 3, color=_TIMING_COLOURS[key],
                        line=dict(color=style.text_colour, width=0.8)),
            customdata=[[plotly_text(c.patient_id), abs(d), "after" if d >= 0 else "before", c.vod_day]
                        for c, d in zip(cases, days)],
            hovertemplate="<b>%{customdata[0]}</b> · VOD %{customdata[1]} days %{customdata[2]} HSCT "
                          "(day %{customdata[3]} after the first InO dose)<extra></extra>",
            meta={"role": "vod_timing", "timing": key, "patients": [c.patient_id for c in cases]},
        ))
    if timing.count(VOD_WITHOUT_HSCT):
        fig.add_annotation(name="vod-no-hsct", text="<i>no HSCT to time against</i>", showarrow=False, xref="x",
                           x=0, xanchor="center", yref="y", y=rows[VOD_WITHOUT_HSCT], yanchor="middle",
                           bgcolor="rgba(255,255,255,0.85)",
                           font=dict(size=style.annotation_size, color=style.muted_colour))

    def row_label(key: str) -> str:
        k = timing.count(key)
        share = f"{k}/{n} ({format_percent(100 * k / n)}%)"
        return f"<b>{_TIMING_LABELS[key]}</b><br>{share}"

    tick_text = [row_label(t) for t in VOD_TIMINGS]
    fig.update_yaxes(tickmode="array", tickvals=list(rows.values()), ticktext=tick_text,
                     range=[-len(rows) + 0.45, 0.55], showgrid=False, zeroline=False, fixedrange=True, ticks="")
    fig.update_xaxes(range=[-limit, limit], dtick=step, title_text="Days from HSCT to VOD (0 = day of HSCT)",
                     showline=True, ticks="outside", zeroline=False, fixedrange=True)
    after = timing.after_hsct
    note = (f"VOD after HSCT: {after.format()} of the patients with VOD"
            if isinstance(after, ProportionEstimate) else "")
    full_caption = f"{caption}\n{note}" if note else caption
    frame = frame_for(style, title=title, caption=full_caption, bottom_px=x_axis_block(style))
    # room for the "before HSCT · HSCT · after HSCT" notes above the plot
    frame = replace(frame, title_px=frame.title_px + style.annotation_size * 1.5)
    fixed_px = frame.margin_top(style) + frame.margin_bottom(style)
    rows_px = fitted_px(style, preferred=len(rows) * style.row_px * 2.4, fixed=fixed_px,
                        minimum=len(rows) * style.tick_size * 3)
    label_px = max(text_px(t, style.tick_size) for t in tick_text) + 16
    fig = finish(fig, style, frame, title=title, caption=full_caption, n=n, height=fixed_px + rows_px,
                 margin_l=label_px, margin_r=30, legend_top=False)
    fig.layout.meta = {"caption": caption, "n": n}
    return fig


def causes_of_death_figure(deaths: DeathSummary, *, caption: str, presenter: bool = False,
                           title: str | None = None, width_px: int | None = None) -> go.Figure:
    """One bar per recorded cause of death (the table's order), split into deaths after an HSCT and
    deaths without one, labelled n/deaths (%); the denominator is the deaths in the slice."""
    style = chart_style(presenter, width_px)
    total = deaths.deaths.count if isinstance(deaths.deaths, ProportionEstimate) else 0
    title = title if title is not None else f"Causes of death (n = {total} deaths)"
    if not deaths.causes:
        n = deaths.deaths.denominator if isinstance(deaths.deaths, ProportionEstimate) else deaths.deaths.n
        return message_figure("No deaths in this slice.", title=title, caption=caption, n=n,
                              presenter=presenter, width_px=width_px)
    causes = list(deaths.causes)
    ys = [-float(i) for i in range(len(causes))]
    labels = [plotly_text(c.cause[:1].upper() + c.cause[1:]) for c in causes]
    fig = go.Figure()
    parts = (("after_hsct", "After HSCT", OKABE_ITO["blue"], "", [c.after_hsct for c in causes]),
             ("no_hsct", "No HSCT", OKABE_ITO["orange"], "/", [c.count - c.after_hsct for c in causes]))
    for key, name, colour, pattern, counts in parts:
        fig.add_trace(go.Bar(
            x=counts, y=ys, orientation="h", width=0.62, name=f"{name} ({sum(counts)})",
            marker=dict(color=colour, line=dict(color=colour, width=1),
                        pattern=dict(shape=pattern, fgcolor="rgba(255,255,255,0.6)", size=8)),
            customdata=[f"{label}: {k} {name.lower()}" for label, k in zip(labels, counts)],
            hovertemplate="%{customdata}<extra></extra>", meta={"role": "death_causes", "part": key},
        ))
    texts = [f"  {c.count}/{c.deaths} ({format_percent(100 * c.share)}%)" for c in causes]
    fig.add_trace(go.Scatter(x=[c.count for c in causes], y=ys, mode="text", text=texts,
                             textposition="middle right", cliponaxis=False, showlegend=False, hoverinfo="skip",
                             textfont=dict(size=style.annotation_size, color=style.text_colour),
                             meta={"role": "death_cause_labels"}))
    most = max(c.count for c in causes)
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_yaxes(tickmode="array", tickvals=ys, ticktext=labels, range=[ys[-1] - 0.6, 0.6], showgrid=False,
                     zeroline=False, fixedrange=True, ticks="")
    fig.update_xaxes(range=[0, most * 1.05 + 0.5], dtick=1 if most <= 12 else None, rangemode="tozero",
                     title_text="Deaths (patients)", showline=True, ticks="outside", fixedrange=True)
    frame = frame_for(style, title=title, caption=caption, bottom_px=x_axis_block(style),
                      legend=[t.name for t in fig.data[:2]])
    fixed_px = frame.margin_top(style) + frame.margin_bottom(style)
    rows_px = fitted_px(style, preferred=(len(causes) + 0.4) * style.row_px * 1.3, fixed=fixed_px,
                        minimum=(len(causes) + 0.4) * style.tick_size * 1.4)
    label_px = max(text_px(t, style.tick_size) for t in labels) + 16
    right_px = max(text_px(t, style.annotation_size) for t in texts) + 20
    n = deaths.deaths.denominator if isinstance(deaths.deaths, ProportionEstimate) else deaths.deaths.n
    return finish(fig, style, frame, title=title, caption=caption, n=n, height=fixed_px + rows_px,
                  margin_l=label_px, margin_r=right_px)
