"""Kaplan–Meier curves with their log(−log) CI band, censoring ticks, medians and a
number-at-risk table aligned under the time axis."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.charts.layout import finish, frame_for, message_figure, x_axis_block
from core.charts.style import NARROW_WIDTH, SPARSE_DASH, chart_style, rgba, text_px, wrap_caption
from core.results import TooFewPatients
from core.survival import SPARSE_AT_RISK, SurvivalAnalysis, SurvivalCurve


def _step_value(curve: SurvivalCurve, t: float) -> float:
    """S(t) read off the fitted step function (no estimation here)."""
    i = int(np.searchsorted(np.asarray(curve.timeline), t, side="right")) - 1
    return float(curve.survival[max(i, 0)])


def _x_title_for(analysis: SurvivalAnalysis) -> str:
    if analysis.endpoint == "dor" or "from first dated CR/CRi" in analysis.definition:
        return "Months since first CR/CRi"
    return "Months since first InO dose"


def _comparison_text(analysis: SurvivalAnalysis) -> str | None:
    c = analysis.comparison
    if c is None:
        return None
    if c.suppressed_reason is not None:
        return f"Log-rank comparison not shown: {c.suppressed_reason}"
    p = c.p_value
    p_text = "p < 0.001" if p is not None and p < 0.001 else f"p = {p:.3f}" if p is not None else "p n/a"
    stat = f"χ² = {c.statistic:.2f}, df = {c.degrees_of_freedom}, " if c.statistic is not None else ""
    return f"Exploratory log-rank (not adjusted for multiplicity): {stat}{p_text}"


def _readable_ticks(months: list[float], most: int = 10) -> list[float]:
    """At most `most` ticks from the table's 3-monthly times: every 3, 6, 12, … months."""
    if not months:
        return months
    span = months[-1]
    for step in (3.0, 6.0, 12.0, 24.0, 60.0, 120.0):
        if span / step <= most:
            break
    return [t for t in months if math.isclose(t % step, 0.0, abs_tol=1e-9)]


def km_figure(analysis: SurvivalAnalysis, *, caption: str, show_ci: bool = True, presenter: bool = False,
              max_months: float | None = None, title: str | None = None,
              x_title: str | None = None, width_px: int | None = None) -> go.Figure:
    """Publication-style Kaplan–Meier curves with a number-at-risk table aligned to the time ticks."""
    style = chart_style(presenter, width_px)
    title = title if title is not None else analysis.title
    curves = analysis.fitted
    not_drawn = [c for c in analysis.curves if isinstance(c, TooFewPatients)]
    if not curves:
        reasons = [c.reason for c in not_drawn] or [f"{analysis.title}: no patients in this slice."]
        return message_figure("\n".join(["No curve can be drawn."] + reasons), title=title, caption=caption,
                              n=sum(c.n for c in not_drawn), presenter=presenter, width_px=width_px)

    multi = len(curves) > 1
    narrow = width_px is not None and width_px < NARROW_WIDTH   # a journal column: fewer ticks, notes below
    ticks = _readable_ticks(sorted({float(t) for c in curves for t in c.at_risk_table.months
                                    if max_months is None or t <= max_months + 1e-9}), most=5 if narrow else 10)
    x_max = float(max_months) if max_months is not None else (
        max(ticks) if ticks else max(c.timeline[-1] for c in curves))
    if not ticks:
        ticks = [0.0, x_max]

    # ---- the table's rows (top to bottom)
    table_labels: list[str] = []
    table_rows: list[tuple[int, str]] = []   # (curve index, kind); kind "" = group header
    for i, curve in enumerate(curves):
        if multi:
            table_labels.append(f"<span style='color:{style.colour(i)}'><b>{curve.label}</b></span>")
            table_rows.append((i, ""))
        for kind in ("At risk", "Events", "Censored"):
            table_labels.append(kind)
            table_rows.append((i, kind))
    n_table_rows = len(table_rows)

    # ---- pixel layout
    legend_names = [f"{c.label} (n = {c.n})" for c in curves] + ["Censored"]
    if show_ci:
        legend_names.append("95% CI, log(−log)")
    if any(c.sparse_from() is not None and c.sparse_from() <= x_max for c in curves):  # type: ignore[operator]
        legend_names.append(f"Fewer than {SPARSE_AT_RISK} at risk")
    row_px = style.table_size * 1.55
    table_px = n_table_rows * row_px + row_px * 0.3
    gap_px = x_axis_block(style) + style.table_size * 1.8 + 6   # x ticks + x title + "Number at risk" heading
    notes = []
    for i, curve in enumerate(curves):
        median = "median NR" if curve.median.value is None else f"median {curve.median.format()}"
        if narrow:    # plain text: the notes join the caption under the table
            notes.append(f"{curve.label}: {median}" if multi else median[0].upper() + median[1:])
        else:
            prefix = f"<span style='color:{style.colour(i)}'>■</span> {curve.label}: " if multi else ""
            notes.append(f"{prefix}{median}")
    comparison = _comparison_text(analysis)
    extra = ([comparison] if comparison else []) + [f"Not drawn: {c.reason}" for c in not_drawn]
    if narrow:
        caption_shown = "\n".join([" · ".join(notes + extra), caption])
    else:
        caption_shown = caption
        for e in extra:
            lines = wrap_caption(e, width_px=style.nominal_width * 0.45, size=style.annotation_size)
            notes.append("<i>" + "<br>".join(lines) + "</i>")
    frame = frame_for(style, title=title, caption=caption_shown, bottom_px=6, legend=legend_names)
    area_px = style.plot_px + gap_px + table_px
    height = frame.margin_top(style) + area_px + frame.margin_bottom(style)
    heading = "Number at risk (events, censored)" if narrow else "Number at risk (cumulative events, censored)"

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=gap_px / area_px,
                        row_heights=[style.plot_px / (style.plot_px + table_px), table_px / (style.plot_px + table_px)])

    # ---- curves
    for i, curve in enumerate(curves):
        colour, dash = style.colour(i), style.dash(i)
        group = f"group-{i}"
        t = np.asarray(curve.timeline, dtype=float)
        s = np.asarray(curve.survival, dtype=float)
        lo = np.asarray(curve.lower, dtype=float)
        hi = np.asarray(curve.upper, dtype=float)
        at_risk = np.asarray(curve.at_risk_on_timeline)
        if show_ci:
            ok = np.isfinite(lo) & np.isfinite(hi)
            fig.add_trace(go.Scatter(x=t[ok], y=hi[ok], mode="lines", line=dict(width=0, shape="hv"),
                                     legendgroup="ci", showlegend=False, hoverinfo="skip",
                                     meta={"role": "ci_upper", "group": curve.label}), row=1, col=1)
            fig.add_trace(go.Scatter(x=t[ok], y=lo[ok], mode="lines", line=dict(width=0, shape="hv"),
                                     fill="tonexty", fillcolor=rgba(colour, 0.09 if multi else 0.16),
                                     legendgroup="ci", legendrank=900,
                                     name="95% CI, log(−log)", showlegend=(i == 0), hoverinfo="skip",
                                     meta={"role": "ci_lower", "group": curve.label}), row=1, col=1)
        sparse = curve.sparse_from()
        custom = np.column_stack([lo, hi, at_risk])
        hover = (f"<b>{curve.label}</b><br>%{{x:.1f}} mo · S = %{{y:.2f}} "
                 f"(95% CI %{{customdata[0]:.2f}}–%{{customdata[1]:.2f}})<br>"
                 "at risk: %{customdata[2]}<extra></extra>")
        if sparse is None:
            main = slice(0, len(t))
            main_t, main_s, main_c = t, s, custom
        else:
            main = t < sparse
            prev = s[main][-1] if main.any() else 1.0
            main_t = np.append(t[main], sparse)
            main_s = np.append(s[main], prev)
            main_c = np.vstack([custom[main], custom[~main][:1]])
        fig.add_trace(go.Scatter(
            x=main_t, y=main_s, mode="lines", name=f"{curve.label} (n = {curve.n})", legendgroup=group,
            legendrank=100 + i,
            line=dict(color=colour, dash=dash, width=style.line_width, shape="hv"),
            customdata=main_c, hovertemplate=hover, meta={"role": "curve", "group": curve.label, "n": curve.n},
        ), row=1, col=1)
        if sparse is not None:
            tail = ~main
            prev = main_s[-1]
            fig.add_trace(go.Scatter(
                x=np.append(sparse, t[tail]), y=np.append(prev, s[tail]), mode="lines", legendgroup=group,
                showlegend=False, opacity=0.8,
                line=dict(color=colour, dash=SPARSE_DASH, width=max(1.5, style.line_width * 0.8), shape="hv"),
                customdata=np.vstack([custom[tail][:1], custom[tail]]), hovertemplate=hover,
                meta={"role": "curve_sparse", "group": curve.label, "from_months": float(sparse)},
            ), row=1, col=1)
        censor_t = [c for c in curve.censor_times if c <= x_max + 1e-9]
        fig.add_trace(go.Scatter(
            x=censor_t, y=[_step_value(curve, c) for c in censor_t], mode="markers", legendgroup=group,
            showlegend=False, name=f"{curve.label}: censored",
            marker=dict(symbol="line-ns-open", size=style.marker_size + 3, color=colour,
                        line=dict(color=colour, width=max(1.5, style.line_width * 0.8))),
            hovertemplate=f"{curve.label}: censored at %{{x:.1f}} mo<extra></extra>",
            meta={"role": "censor", "group": curve.label},
        ), row=1, col=1)
        m = curve.median.value
        if m is not None and m <= x_max:
            line = dict(color=colour, width=max(1.0, style.line_width * 0.55), dash="dot")
            fig.add_shape(name=f"median-h-{i}", type="line", x0=0, x1=m, y0=0.5, y1=0.5, xref="x", yref="y",
                          line=line, layer="below")
            fig.add_shape(name=f"median-v-{i}", type="line", x0=m, x1=m, y0=0, y1=0.5, xref="x", yref="y",
                          line=line, layer="below")

    # legend-only explanations
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="Censored", legendgroup="explain-censor",
                             legendrank=800,
                             marker=dict(symbol="line-ns-open", size=style.marker_size + 3, color=style.text_colour,
                                         line=dict(color=style.text_colour, width=2)),
                             meta={"role": "legend"}), row=1, col=1)
    if f"Fewer than {SPARSE_AT_RISK} at risk" in legend_names:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"Fewer than {SPARSE_AT_RISK} at risk",
                                 legendgroup="explain-sparse", legendrank=850,
                                 line=dict(color=style.muted_colour, dash=SPARSE_DASH, width=2),
                                 meta={"role": "legend"}), row=1, col=1)

    # ---- medians and notes, boxed in the top-right corner of the plot (under the table when narrow)
    if not narrow:
        fig.add_annotation(name="km-medians", text="<br>".join(notes), showarrow=False, align="right",
                           xref="x domain", x=0.995, xanchor="right", yref="y domain", y=0.99, yanchor="top",
                           bgcolor="rgba(255,255,255,0.85)", borderpad=4, font=dict(size=style.annotation_size))

    # ---- number-at-risk table: text on the second row, at the same x as the ticks
    ys = [-float(r) for r in range(n_table_rows)]
    for row_index, (i, kind) in enumerate(table_rows):
        if not kind:
            continue
        curve = curves[i]
        table = curve.at_risk_table
        values = {"At risk": table.at_risk, "Events": table.events, "Censored": table.censored}[kind]
        # under the labelled ticks only: a number between two ticks has no time to be read against
        pairs = [(m, v) for m, v in zip(table.months, values)
                 if m <= x_max + 1e-9 and any(math.isclose(m, t) for t in ticks)]
        fig.add_trace(go.Scatter(
            x=[m for m, _ in pairs], y=[ys[row_index]] * len(pairs), mode="text",
            text=[str(v) for _, v in pairs], textposition="middle center", cliponaxis=False, showlegend=False,
            hoverinfo="skip", textfont=dict(size=style.table_size, color=style.text_colour),
            meta={"role": "at_risk_table", "group": curve.label, "kind": kind},
        ), row=2, col=1)
    fig.add_annotation(name="km-table-heading", text=f"<b>{heading}</b>", showarrow=False, xref="paper", x=0,
                       xanchor="left", yref="y2 domain", y=1, yanchor="bottom", yshift=4,
                       font=dict(size=style.table_size))

    x_title = x_title if x_title is not None else _x_title_for(analysis)
    fig.update_xaxes(range=[0, x_max], tickmode="array", tickvals=ticks,
                     ticktext=[f"{t:g}" for t in ticks], zeroline=False, showgrid=False)
    fig.update_xaxes(row=1, col=1, showticklabels=True, title_text=x_title, showline=True, ticks="outside",
                     title_standoff=6)
    fig.update_xaxes(row=2, col=1, showticklabels=False, showline=False, ticks="")
    fig.update_yaxes(row=1, col=1, range=[-0.02, 1.03], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
                     ticktext=["0", "0.2", "0.4", "0.6", "0.8", "1.0"], title_text="Survival probability",
                     showline=True, ticks="outside", zeroline=False)
    number_px = max(text_px(str(v), style.table_size) for c in curves
                    for v in (*c.at_risk_table.at_risk, *c.at_risk_table.events))
    fig.update_yaxes(row=2, col=1, range=[ys[-1] - 0.6, 0.6], tickmode="array", tickvals=ys, ticktext=table_labels,
                     showgrid=False, zeroline=False, showline=False, ticks="", fixedrange=True,
                     ticklabelstandoff=int(number_px / 2 + 8))

    label_px = max(max(text_px(t, style.tick_size) for t in table_labels) + number_px / 2 + 22,
                   text_px("0.8", style.tick_size) + style.axis_title_size * 1.6 + 18)
    right_px = text_px("000", style.table_size) + 16
    fig = finish(fig, style, frame, title=title, caption=caption, n=sum(c.n for c in curves), height=height,
                  margin_l=label_px, margin_r=right_px)
    return fig
