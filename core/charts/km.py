"""Kaplan–Meier curves with their log(−log) CI bands, censoring ticks, medians and a KMunicate-style
number-at-risk table aligned under the time axis (core.charts.risk_table).

The time axis ends where the slice's follow-up ends (rounded up to a tick) unless a horizon is
given; a caveat (e.g. immortal-time bias) is stamped above the plot so every exported image carries it.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.charts.layout import finish, fitted_px, frame_for, message_figure, x_axis_block
from core.charts.risk_table import (
    follow_up_extent,
    short_label,
    table_row_px,
    table_rows,
    table_value,
    time_ticks,
)
from core.charts.style import NARROW_WIDTH, SPARSE_DASH, chart_style, rgba, text_px, wrapped_text
from core.results import TooFewPatients
from core.survival import SPARSE_AT_RISK, SurvivalAnalysis, SurvivalCurve
from core.text import plotly_text


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


def _median_text(curve: SurvivalCurve) -> str:
    return "median NR" if curve.median.value is None else f"median {curve.median.format()}"


def km_figure(analysis: SurvivalAnalysis, *, caption: str, show_ci: bool = True, presenter: bool = False,
              max_months: float | None = None, title: str | None = None,
              x_title: str | None = None, width_px: int | None = None, caveat: str | None = None) -> go.Figure:
    """Publication-style Kaplan–Meier curves with a number-at-risk table aligned to the time ticks.

    `max_months` fixes the horizon; by default the axis ends at the longest follow-up in the slice,
    rounded up to a tick. `x_title` replaces the time axis title (e.g. "Months since the 3-month
    landmark"); `caveat` is a warning printed above the plot (e.g. immortal-time bias). Every text
    argument and every group label is plain text (escaped here).
    """
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
    labels = [plotly_text(c.label) for c in curves]                 # the legend: whole
    short = [plotly_text(short_label(c.label)) for c in curves]     # the table and the notes
    ticks, x_max = time_ticks(follow_up_extent(curves), most=5 if narrow else 10, horizon=max_months)

    # ---- the table's rows (top to bottom)
    rows = table_rows(short, merge_headers=style.presenter)
    table_labels = [r.label for r in rows]

    # ---- legend, notes and the pixel layout
    sparse_shown = any((s := c.sparse_from()) is not None and s <= x_max for c in curves)
    legend_names = [f"{label} (n = {c.n})" for label, c in zip(labels, curves)] + ["Censored"]
    if show_ci:
        legend_names.append("95% CI, log(−log)")
    if sparse_shown:
        legend_names.append(f"Fewer than {SPARSE_AT_RISK} at risk")
    comparison = _comparison_text(analysis)
    extra = ([comparison] if comparison else []) + [f"Not drawn: {c.reason}" for c in not_drawn]
    # A tumour-board screen is wide but short: with several groups the legend and the medians stand
    # in a panel beside the plot instead of taking rows above it and covering its curves.
    side_panel = style.presenter and multi and not narrow
    panel_px = 0.0
    if narrow:    # plain text: the notes join the caption under the table
        notes = [f"{short_label(c.label)}: {_median_text(c)}" if multi else _median_text(c).capitalize()
                 for c in curves]
        caption_shown = "\n".join([" · ".join(notes + extra), caption])
        notes_text = ""
    elif side_panel:
        caption_shown = caption
        medians = [_median_text(c).replace(" (", "\n(") for c in curves]   # the CI on a line of its own
        panel_px = min(style.nominal_width * 0.3, max(text_px(n, style.legend_size) + 60 for n in legend_names))
        wrap = dict(width_px=panel_px - 16, size=style.annotation_size)
        lines = [f"<b>{label}</b>: " + wrapped_text(m, **wrap) for label, m in zip(short, medians)]
        lines += ["<i>" + wrapped_text(e, **wrap) + "</i>" for e in extra]
        notes_text = "<br>".join(lines)
    else:
        caption_shown = caption
        lines = [f"<b>{label}</b>: {_median_text(c)}" if multi else plotly_text(_median_text(c))
                 for label, c in zip(short, curves)]
        lines += ["<i>" + wrapped_text(e, width_px=style.nominal_width * 0.45, size=style.annotation_size) + "</i>"
                  for e in extra]
        notes_text = "<br>".join(lines)
    number_px = max(text_px(str(v), style.table_size) for c in curves
                    for v in (*c.at_risk_table.at_risk, *c.at_risk_table.events, c.n))
    key_px = 34 if multi else 0      # a line sample in the group's colour and dash before its name
    label_px = max(max(text_px(t, style.tick_size) for t in table_labels) * (1.15 if multi else 1) + number_px / 2
                   + 22 + key_px,
                   text_px("0.8", style.tick_size) + style.axis_title_size * 1.6 + 18)
    right_px = max(text_px("000", style.table_size) + 16, panel_px + number_px / 2)
    frame = frame_for(style, title=title, caption=caption_shown, bottom_px=6, banner=caveat,
                      legend=() if side_panel else legend_names,
                      legend_width_px=style.nominal_width - label_px - right_px)
    row_px = table_row_px(style)
    table_px = len(rows) * row_px + row_px * 0.3
    heading_px = style.table_size * (1.3 if style.presenter else 1.8) + 6
    gap_px = x_axis_block(style) + heading_px        # x ticks + x title + "Number at risk" heading
    fixed_px = frame.margin_top(style) + gap_px + table_px + frame.margin_bottom(style)
    plot_px = fitted_px(style, preferred=style.plot_px, fixed=fixed_px)
    area_px = plot_px + gap_px + table_px
    height = fixed_px + plot_px
    heading = "Number at risk (events, censored)" if narrow else "Number at risk (cumulative events, censored)"

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=gap_px / area_px,
                        row_heights=[plot_px / (plot_px + table_px), table_px / (plot_px + table_px)])

    # ---- CI bands first, so that no band is drawn over another group's curve
    if show_ci:
        for i, (label, curve) in enumerate(zip(labels, curves)):
            _add_band(fig, curve, label, style.colour(i), multi=multi, first=(i == 0))

    # ---- curves, censoring ticks and median lines
    for i, (label, curve) in enumerate(zip(labels, curves)):
        _add_curve(fig, curve, label, style.colour(i), style.dash(i), style.line_width, style.marker_size, i, x_max)

    # legend-only explanations
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="Censored", legendgroup="explain-censor",
                             legendrank=800,
                             marker=dict(symbol="line-ns-open", size=style.marker_size + 3, color=style.text_colour,
                                         line=dict(color=style.text_colour, width=2)),
                             meta={"role": "legend"}), row=1, col=1)
    if sparse_shown:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"Fewer than {SPARSE_AT_RISK} at risk",
                                 legendgroup="explain-sparse", legendrank=850,
                                 line=dict(color=style.muted_colour, dash=SPARSE_DASH, width=2),
                                 meta={"role": "legend"}), row=1, col=1)

    # ---- medians and notes: boxed in the top-right corner of the plot, in the side panel under the
    # legend, or (narrow) in the caption under the table
    legend_px = len(legend_names) * style.legend_size * 1.45 + 8
    if notes_text and side_panel:
        fig.add_annotation(name="km-medians", text=notes_text, showarrow=False, align="left",
                           xref="paper", x=1, xanchor="left", xshift=int(number_px / 2 + 12), yref="y domain", y=1, yanchor="top",
                           yshift=-legend_px, font=dict(size=style.annotation_size))
    elif notes_text:
        fig.add_annotation(name="km-medians", text=notes_text, showarrow=False, align="right",
                           xref="x domain", x=0.995, xanchor="right", yref="y domain", y=0.99, yanchor="top",
                           bgcolor="rgba(255,255,255,0.85)", borderpad=4, font=dict(size=style.annotation_size))

    # ---- number-at-risk table: text on the second row, under the labelled ticks only
    ys = [-float(r) for r in range(len(rows))]
    for y, row in zip(ys, rows):
        if not row.kind:
            continue
        curve = curves[row.curve]
        cells = [(t, v) for t in ticks if t <= x_max + 1e-9 and (v := table_value(curve, row.kind, t)) is not None]
        fig.add_trace(go.Scatter(
            x=[t for t, _ in cells], y=[y] * len(cells), mode="text",
            text=[str(v) for _, v in cells], textposition="middle center", cliponaxis=False, showlegend=False,
            hoverinfo="skip", textfont=dict(size=style.table_size, color=style.text_colour),
            meta={"role": "at_risk_table", "group": curve.label, "kind": row.kind},
        ), row=2, col=1)
    fig.add_annotation(name="km-table-heading", text=f"<b>{heading}</b>", showarrow=False, xref="paper", x=0,
                       xanchor="left", yref="y2 domain", y=1, yanchor="bottom", yshift=4,
                       font=dict(size=style.table_size))

    x_title = x_title if x_title is not None else _x_title_for(analysis)
    fig.update_xaxes(range=[0, x_max], tickmode="array", tickvals=ticks,
                     ticktext=[f"{t:g}" for t in ticks], zeroline=False, showgrid=False)
    fig.update_xaxes(row=1, col=1, showticklabels=True, title_text=plotly_text(x_title), showline=True,
                     ticks="outside", title_standoff=6)
    fig.update_xaxes(row=2, col=1, showticklabels=False, showline=False, ticks="")
    fig.update_yaxes(row=1, col=1, range=[-0.02, 1.03], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
                     ticktext=["0", "0.2", "0.4", "0.6", "0.8", "1.0"], title_text="Survival probability",
                     showline=True, ticks="outside", zeroline=False)
    fig.update_yaxes(row=2, col=1, range=[ys[-1] - 0.6, 0.6], tickmode="array", tickvals=ys, ticktext=table_labels,
                     showgrid=False, zeroline=False, showline=False, ticks="", fixedrange=True,
                     ticklabelstandoff=int(number_px / 2 + 8))

    if multi:
        for y, row in zip(ys, rows):
            if row.kind in ("", "At risk") and (not row.kind) == (not style.presenter):
                # just left of the group's name (tick labels are right-aligned at the standoff)
                x1 = -(number_px / 2 + 8 + text_px(row.label, style.tick_size) * 1.15) - 6   # bold runs wide
                fig.add_shape(name=f"km-table-key-{row.curve}", type="line", xref="paper", xsizemode="pixel",
                              xanchor=0, x0=x1 - (key_px - 8), x1=x1, yref="y2", y0=y, y1=y,
                              line=dict(color=style.colour(row.curve), dash=style.dash(row.curve),
                                        width=style.line_width))
    fig = finish(fig, style, frame, title=title, caption=caption, n=sum(c.n for c in curves), height=height,
                 margin_l=label_px, margin_r=right_px, banner_name="km-caveat", legend_top=not side_panel)
    if side_panel:
        fig.update_layout(legend=dict(orientation="v", x=1, xanchor="left", xref="paper", y=1, yanchor="top",
                                      yref="paper", traceorder="normal", bgcolor="rgba(255,255,255,0)",
                                      itemsizing="constant", tracegroupgap=0))
    return fig


def _add_band(fig: go.Figure, curve: SurvivalCurve, label: str, colour: str, *, multi: bool, first: bool) -> None:
    """The pointwise CI as a translucent band; with several groups its edges are traced thinly in the
    group's colour, so overlapping bands can still be told apart."""
    t = np.asarray(curve.timeline, dtype=float)
    lo = np.asarray(curve.lower, dtype=float)
    hi = np.asarray(curve.upper, dtype=float)
    ok = np.isfinite(lo) & np.isfinite(hi)
    edge = dict(width=1, color=rgba(colour, 0.45), shape="hv", dash="dot") if multi else dict(width=0, shape="hv")
    fig.add_trace(go.Scatter(x=t[ok], y=hi[ok], mode="lines", line=edge, legendgroup="ci", showlegend=False,
                             hoverinfo="skip", meta={"role": "ci_upper", "group": curve.label}), row=1, col=1)
    fig.add_trace(go.Scatter(x=t[ok], y=lo[ok], mode="lines", line=edge, fill="tonexty",
                             fillcolor=rgba(colour, 0.12 if multi else 0.18), legendgroup="ci", legendrank=900,
                             name="95% CI, log(−log)", showlegend=first, hoverinfo="skip",
                             meta={"role": "ci_lower", "group": curve.label}), row=1, col=1)


def _add_curve(fig: go.Figure, curve: SurvivalCurve, label: str, colour: str, dash: str, line_width: float,
               marker_size: int, i: int, x_max: float) -> None:
    """The step curve (dashed from where fewer than SPARSE_AT_RISK remain), censoring ticks, median lines."""
    group = f"group-{i}"
    t = np.asarray(curve.timeline, dtype=float)
    s = np.asarray(curve.survival, dtype=float)
    custom = np.column_stack([np.asarray(curve.lower, dtype=float), np.asarray(curve.upper, dtype=float),
                              np.asarray(curve.at_risk_on_timeline)])
    hover = (f"<b>{label}</b><br>%{{x:.1f}} mo · S = %{{y:.2f}} "
             f"(95% CI %{{customdata[0]:.2f}}–%{{customdata[1]:.2f}})<br>"
             "at risk: %{customdata[2]}<extra></extra>")
    sparse = curve.sparse_from()
    if sparse is None:
        main = np.ones(len(t), dtype=bool)
        main_t, main_s, main_c = t, s, custom
    else:
        main = t < sparse
        prev = s[main][-1] if main.any() else 1.0
        main_t = np.append(t[main], sparse)
        main_s = np.append(s[main], prev)
        main_c = np.vstack([custom[main], custom[~main][:1]])
    fig.add_trace(go.Scatter(
        x=main_t, y=main_s, mode="lines", name=f"{label} (n = {curve.n})", legendgroup=group, legendrank=100 + i,
        line=dict(color=colour, dash=dash, width=line_width, shape="hv"),
        customdata=main_c, hovertemplate=hover, meta={"role": "curve", "group": curve.label, "n": curve.n},
    ), row=1, col=1)
    if sparse is not None:
        tail = ~main
        fig.add_trace(go.Scatter(
            x=np.append(sparse, t[tail]), y=np.append(main_s[-1], s[tail]), mode="lines", legendgroup=group,
            showlegend=False, opacity=0.8,
            line=dict(color=colour, dash=SPARSE_DASH, width=max(1.5, line_width * 0.8), shape="hv"),
            customdata=np.vstack([custom[tail][:1], custom[tail]]), hovertemplate=hover,
            meta={"role": "curve_sparse", "group": curve.label, "from_months": float(sparse)},
        ), row=1, col=1)
    censor_t = [c for c in curve.censor_times if c <= x_max + 1e-9]
    fig.add_trace(go.Scatter(
        x=censor_t, y=[_step_value(curve, c) for c in censor_t], mode="markers", legendgroup=group,
        showlegend=False, name=f"{label}: censored", cliponaxis=False,
        marker=dict(symbol="line-ns-open", size=marker_size + 3, color=colour,
                    line=dict(color=colour, width=max(1.5, line_width * 0.8))),
        hovertemplate=f"{label}: censored at %{{x:.1f}} mo<extra></extra>",
        meta={"role": "censor", "group": curve.label},
    ), row=1, col=1)
    m = curve.median.value
    if m is not None and m <= x_max:
        line = dict(color=colour, width=max(1.0, line_width * 0.55), dash="dot")
        fig.add_shape(name=f"median-h-{i}", type="line", x0=0, x1=m, y0=0.5, y1=0.5, xref="x", yref="y",
                      line=line, layer="below")
        fig.add_shape(name=f"median-v-{i}", type="line", x0=m, x1=m, y0=0, y1=0.5, xref="x", yref="y",
                      line=line, layer="below")
