"""Cumulative incidence with a competing event: the two incidences together, their CI bands, and
a table of patients still free of every event under the time axis (never 1 − Kaplan–Meier).

Text from the cohort (group labels) is escaped here with core.text.plotly_text; the caption is the
page's own, escaped where it is made.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.charts.layout import finish, fitted_px, frame_for, message_figure, x_axis_block
from core.charts.style import OKABE_ITO, chart_style, rgba, text_px
from core.cumulative_incidence import CompetingRisksAnalysis, CumulativeIncidence, GrayTest
from core.results import TooFewPatients
from core.text import plotly_text

CAUSE_DASHES = ("solid", "dash")
METHOD_NOTE = "Aalen–Johansen estimate; variance as R's cmprsk::cuminc; pointwise 95% CI, log(−log) transform"


def _ticks(table_months: list[float], horizon: float, most: int = 10) -> list[float]:
    """Ticks from the risk table's times (every 3 months), thinned to at most `most`, up to the horizon."""
    months = [t for t in table_months if t <= horizon + 3 - 1e-9]
    for step in (3.0, 6.0, 12.0, 24.0, 60.0, 120.0):
        if months and months[-1] / step <= most:
            break
    return [t for t in months if math.isclose(t % step, 0.0, abs_tol=1e-9)] or [0.0, 3.0]


def _gray_text(tests: tuple[GrayTest, ...]) -> list[str]:
    out = []
    for t in tests:
        if t.suppressed_reason is not None:
            out.append(f"Gray's test ({plotly_text(t.label)}) not shown: {plotly_text(t.suppressed_reason)}")
        elif t.p_value is not None:
            p = "p < 0.001" if t.p_value < 0.001 else f"p = {t.p_value:.3f}"
            out.append(f"Gray's test, {plotly_text(t.label)} (exploratory): χ² = {t.statistic:.2f}, {p}")
    return out


def _last_change(curve: CumulativeIncidence) -> float:
    """When the last incidence steps up: the curves are flat after it, so the axis need not go on
    to the longest follow-up (the table still counts who remains)."""
    steps = [float(curve.timeline[i]) for cause in curve.causes
             for i in range(1, len(cause.incidence)) if cause.incidence[i] > cause.incidence[i - 1]]
    return max(steps) if steps else float(curve.timeline[-1])


def incidence_figure(analysis: CompetingRisksAnalysis, *, caption: str, presenter: bool = False,
                     show_ci: bool = True, stacked: bool = False, max_months: float | None = None,
                     title: str | None = None, x_title: str | None = None,
                     width_px: int | None = None) -> go.Figure:
    """Cumulative incidence of the event and of its competing event per group (stacked for one group
    on request), with the Aalen–Johansen method named and the event-free table under the axis."""
    style = chart_style(presenter, width_px)
    title = title if title is not None else analysis.title
    curves = analysis.fitted
    not_drawn = [c for c in analysis.curves if isinstance(c, TooFewPatients)]
    if not curves:
        reasons = [c.reason for c in not_drawn] or [f"{analysis.title}: no patients in this slice."]
        return message_figure("\n".join(["No curve can be drawn."] + reasons), title=title, caption=caption,
                              n=sum(c.n for c in not_drawn), presenter=presenter, width_px=width_px)
    multi = len(curves) > 1
    stacked = stacked and not multi
    horizon = float(max_months) if max_months is not None else max(_last_change(c) for c in curves)
    table_months = sorted({float(t) for c in curves for t in c.at_risk_table.months})
    ticks = _ticks(table_months, horizon, most=5 if (width_px or 1000) < 700 else 10)
    x_max = ticks[-1] if max_months is None else float(max_months)

    causes = [(c.cause, c.label) for c in curves[0].causes]
    legend = [plotly_text(f"{c.label}: {label}" if multi else label) for c in curves for _, label in causes]
    if show_ci and not stacked:
        legend.append("95% CI, log(−log)")
    table_rows = [(i, kind) for i in range(len(curves)) for kind in ("Free of events", "Events", "Censored")]
    row_px = style.table_size * 1.55
    table_px = len(table_rows) * row_px + row_px * 0.3
    gap_px = x_axis_block(style) + style.table_size * 1.8 + 6
    notes = [METHOD_NOTE] + _gray_text(analysis.comparisons)
    notes += [f"Not drawn: {plotly_text(c.reason)}" for c in not_drawn]
    frame = frame_for(style, title=title, caption=caption + "\n" + " · ".join(notes), bottom_px=6, legend=legend)
    fixed_px = frame.margin_top(style) + gap_px + table_px + frame.margin_bottom(style)
    plot_px = fitted_px(style, preferred=style.plot_px, fixed=fixed_px)   # presenter mode: fits the screen
    area_px = plot_px + gap_px + table_px
    height = fixed_px + plot_px
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=gap_px / area_px,
                        row_heights=[plot_px / (plot_px + table_px), table_px / (plot_px + table_px)])

    for i, curve in enumerate(curves):
        t = np.asarray(curve.timeline, dtype=float)
        below = np.zeros_like(t)
        for j, cause in enumerate(curve.causes):
            colour = style.colour(i) if multi else OKABE_ITO[("blue", "vermillion")[j % 2]]
            f = np.asarray(cause.incidence, dtype=float)
            name = plotly_text(f"{curve.label}: {cause.label}" if multi else cause.label)
            if show_ci and not stacked:
                lo, hi = np.asarray(cause.lower, dtype=float), np.asarray(cause.upper, dtype=float)
                ok = np.isfinite(lo) & np.isfinite(hi)
                fig.add_trace(go.Scatter(x=t[ok], y=hi[ok], mode="lines", line=dict(width=0, shape="hv"),
                                         showlegend=False, hoverinfo="skip", legendgroup="ci",
                                         meta={"role": "ci_upper", "group": curve.label, "cause": cause.cause}),
                              row=1, col=1)
                fig.add_trace(go.Scatter(x=t[ok], y=lo[ok], mode="lines", line=dict(width=0, shape="hv"),
                                         fill="tonexty", fillcolor=rgba(colour, 0.10), legendgroup="ci",
                                         name="95% CI, log(−log)", showlegend=(i == 0 and j == 0), legendrank=900,
                                         hoverinfo="skip",
                                         meta={"role": "ci_lower", "group": curve.label, "cause": cause.cause}),
                              row=1, col=1)
            y = below + f if stacked else f
            fig.add_trace(go.Scatter(
                x=t, y=y, mode="lines", name=name, legendrank=100 + 10 * i + j,
                line=dict(color=colour, dash=CAUSE_DASHES[j % 2] if multi else "solid", width=style.line_width,
                          shape="hv"),
                fill="tonexty" if stacked and j else ("tozeroy" if stacked else None),
                fillcolor=rgba(colour, 0.35) if stacked else None,
                customdata=np.column_stack([f]),
                hovertemplate=f"<b>{name}</b><br>%{{x:.1f}} mo · %{{customdata[0]:.2f}}<extra></extra>",
                meta={"role": "incidence", "group": curve.label, "cause": cause.cause, "n": curve.n}), row=1, col=1)
            below = y

    ys = [-float(r) for r in range(len(table_rows))]
    for row_index, (i, kind) in enumerate(table_rows):
        table = curves[i].at_risk_table
        values = {"Free of events": table.at_risk, "Events": table.events, "Censored": table.censored}[kind]
        pairs = [(m, v) for m, v in zip(table.months, values)
                 if m <= x_max + 1e-9 and any(math.isclose(m, tick) for tick in ticks)]
        fig.add_trace(go.Scatter(x=[m for m, _ in pairs], y=[ys[row_index]] * len(pairs), mode="text",
                                 text=[str(v) for _, v in pairs], textposition="middle center", cliponaxis=False,
                                 showlegend=False, hoverinfo="skip",
                                 textfont=dict(size=style.table_size, color=style.text_colour),
                                 meta={"role": "event_free_table", "group": curves[i].label, "kind": kind}),
                      row=2, col=1)
    labels = [(f"<b>{plotly_text(curves[i].label)}</b> " if multi and kind == "Free of events" else "") + kind
              for i, kind in table_rows]
    fig.add_annotation(name="incidence-table-heading", text="<b>Number free of every event (cumulative events, "
                       "censored)</b>", showarrow=False, xref="paper", x=0, xanchor="left", yref="y2 domain", y=1,
                       yanchor="bottom", yshift=4, font=dict(size=style.table_size))
    fig.update_xaxes(range=[0, x_max], tickmode="array", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks],
                     zeroline=False, showgrid=False)
    fig.update_xaxes(row=1, col=1, showticklabels=True, title_text=x_title or "Months", showline=True,
                     ticks="outside", title_standoff=6)
    fig.update_xaxes(row=2, col=1, showticklabels=False, showline=False, ticks="")
    top = max(max(max(c.incidence) for c in curve.causes) for curve in curves)
    y_max = 1.0 if stacked or top > 0.6 else min(1.0, math.ceil((top + 0.05) * 10) / 10)
    fig.update_yaxes(row=1, col=1, range=[0, y_max * 1.02], title_text="Cumulative incidence", showline=True,
                     ticks="outside", zeroline=False, tickformat=".1f")
    fig.update_yaxes(row=2, col=1, range=[ys[-1] - 0.6, 0.6], tickmode="array", tickvals=ys, ticktext=labels,
                     showgrid=False, zeroline=False, showline=False, ticks="", fixedrange=True, ticklabelstandoff=14)
    label_px = max(text_px(lab, style.tick_size) for lab in labels) + 30
    fig = finish(fig, style, frame, title=title, caption=caption, n=sum(c.n for c in curves), height=height,
                 margin_l=label_px, margin_r=text_px("000", style.table_size) + 16)
    fig.update_layout(meta={"caption": caption, "n": sum(c.n for c in curves), "method": curves[0].method})
    return fig
