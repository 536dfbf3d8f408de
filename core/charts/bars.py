"""Bar charts of counts and rates: best-response composition, cycles to first CR/CRi, toxicity by
HSCT status and one rate per subgroup, each rate with its exact CI whisker and k/N (%) label.

Labels, reasons and titles are plain text; each is escaped here where it becomes plotly text."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from core.charts.layout import finish, fitted_px, frame_for, message_figure, short_reason, x_axis_block
from core.charts.style import OKABE_ITO, RESPONSE_COLOURS, RESPONSE_PATTERNS, chart_style, text_px, wrapped_text
from core.response import ResponseComposition, SubgroupRate
from core.results import CLOPPER_PEARSON, ProportionEstimate, format_percent
from core.safety import ToxicityByHsct
from core.text import plotly_text


def composition_figure(composition: ResponseComposition, *, caption: str, presenter: bool = False,
                       title: str | None = None, width_px: int | None = None) -> go.Figure:
    """Best response as one 100% stacked bar: CR / CRi / No response / Not evaluable, n (%)."""
    style = chart_style(presenter, width_px)
    title = title if title is not None else f"Best response (n = {composition.n})"
    if composition.n <= 0:
        return message_figure("Best response: no patients in this slice.", title=title, caption=caption, n=0,
                              presenter=presenter, width_px=width_px)
    keys = ("CR", "CRi", "NR", "not evaluable")
    fig = go.Figure()
    names = []
    for key, (plain_label, count) in zip(keys, composition.as_rows()):
        label = plotly_text(plain_label)
        pct = 100 * count / composition.n
        text = f"{count} ({format_percent(pct)}%)"
        name = f"{label}: {text}"
        names.append(name)
        fig.add_trace(go.Bar(
            x=[pct], y=[""], orientation="h", name=name, meta={"role": "composition", "category": plain_label,
                                                                "count": count},
            marker=dict(color=RESPONSE_COLOURS[key], line=dict(color=style.background, width=1.5),
                        pattern=dict(shape=RESPONSE_PATTERNS[key], fgcolor="rgba(255,255,255,0.55)", size=8)),
            text=[f"{label}<br>{text}" if count else ""], textposition="inside", insidetextanchor="middle",
            textfont=dict(size=style.annotation_size,
                          color="#000000" if key in ("CRi", "not evaluable") else "#FFFFFF"),
            hovertemplate=f"{label}: {count} of {composition.n} ({format_percent(pct)}%)<extra></extra>",
        ))
    fig.update_layout(barmode="stack", bargap=0.25, uniformtext=dict(minsize=style.annotation_size, mode="hide"))
    fig.update_xaxes(range=[0, 100], dtick=20 if style.presenter else 10, title_text="% of patients in the slice",
                     showline=True, ticks="outside", fixedrange=True)
    fig.update_yaxes(showticklabels=False, fixedrange=True, showgrid=False)
    frame = frame_for(style, title=title, caption=caption, bottom_px=x_axis_block(style), legend=names)
    height = frame.margin_top(style) + style.row_px * 3.2 + frame.margin_bottom(style)
    return finish(fig, style, frame, title=title, caption=caption, n=composition.n, height=height,
                   margin_l=20, margin_r=30)


def cycles_figure(listing: pd.DataFrame, *, caption: str, presenter: bool = False,
                  title: str = "InO cycles to first CR/CRi", width_px: int | None = None) -> go.Figure:
    """Responders by the cycle after which CR/CRi was first documented, stacked CR / CRi."""
    style = chart_style(presenter, width_px)
    responders = listing[listing["best_response"].isin(["CR", "CRi"]) & listing["cycles_to_response"].notna()]
    if responders.empty:
        return message_figure("No responder with a documented response cycle in this slice.", title=title,
                              caption=caption, n=0, presenter=presenter, width_px=width_px)
    cycles = sorted(int(c) for c in responders["cycles_to_response"].unique())
    xs = list(range(1, max(cycles) + 1))
    fig = go.Figure()
    for response in ("CR", "CRi"):
        counts = responders[responders["best_response"] == response]["cycles_to_response"].astype(int)
        ys = [int((counts == x).sum()) for x in xs]
        fig.add_trace(go.Bar(x=xs, y=ys, name=f"{response} (n = {len(counts)})", meta={"role": "cycles",
                                                                                     "response": response},
                             marker=dict(color=RESPONSE_COLOURS[response],
                                         pattern=dict(shape=RESPONSE_PATTERNS[response],
                                                      fgcolor="rgba(0,0,0,0.35)", size=8)),
                             text=[str(y) if y else "" for y in ys], textposition="inside",
                             textfont=dict(size=style.annotation_size,
                                           color="#FFFFFF" if response == "CR" else "#000000"),
                             hovertemplate=f"{response} after cycle %{{x}}: %{{y}}<extra></extra>"))
    fig.update_layout(barmode="stack", bargap=0.35)
    fig.update_xaxes(tickmode="array", tickvals=xs, range=[0.4, max(4, xs[-1]) + 0.6],
                     title_text="InO cycle after which CR/CRi was first documented",
                     showline=True, fixedrange=True, showgrid=False)
    fig.update_yaxes(title_text="Responders", dtick=1 if len(responders) <= 12 else None, showline=True,
                     ticks="outside", fixedrange=True, rangemode="tozero")
    frame = frame_for(style, title=title, caption=caption, bottom_px=x_axis_block(style),
                   legend=[t.name for t in fig.data])
    fixed_px = frame.margin_top(style) + frame.margin_bottom(style)
    height = fixed_px + fitted_px(style, preferred=style.plot_px * 0.8, fixed=fixed_px)
    label_px = text_px("00", style.tick_size) + style.axis_title_size * 1.6 + 20
    return finish(fig, style, frame, title=title, caption=caption, n=len(responders), height=height,
                   margin_l=label_px, margin_r=30)


def toxicity_figure(table: ToxicityByHsct, *, caption: str, presenter: bool = False,
                    title: str = "Toxicity by HSCT status", width_px: int | None = None) -> go.Figure:
    """Grouped horizontal bars, HSCT vs no HSCT, per toxicity, with exact CI whiskers and k/N (%) labels."""
    style = chart_style(presenter, width_px)
    n = table.n_hsct + table.n_no_hsct_evaluable + table.n_not_evaluable
    if not table.rows:
        return message_figure("No toxicity to show.", title=title, caption=caption, n=n,
                              presenter=presenter, width_px=width_px)
    arms = (
        ("hsct", f"HSCT (N = {table.n_hsct})", OKABE_ITO["blue"], ""),
        ("no_hsct", f"No HSCT (N = {table.n_no_hsct_evaluable})", OKABE_ITO["orange"], "/"),
    )
    half = 0.19
    offsets = {"hsct": half, "no_hsct": -half}
    centres = [-float(i) for i in range(len(table.rows))]
    fig = go.Figure()
    labels: list[str] = []
    for key, name, colour, pattern in arms:
        estimates = [(c + offsets[key], getattr(r, key), plotly_text(r.label)) for c, r in zip(centres, table.rows)]
        fitted = [(y, p, lab) for y, p, lab in estimates if isinstance(p, ProportionEstimate)]
        fig.add_trace(go.Bar(
            x=[100 * p.estimate for _, p, _ in fitted], y=[y for y, _, _ in fitted], orientation="h",
            width=2 * half * 0.92, name=name, meta={"role": "toxicity", "arm": key},
            marker=dict(color=colour, pattern=dict(shape=pattern, fgcolor="rgba(255,255,255,0.6)", size=8),
                        line=dict(color=colour, width=1)),
            error_x=dict(type="data", symmetric=False, array=[100 * (p.upper - p.estimate) for _, p, _ in fitted],
                         arrayminus=[100 * (p.estimate - p.lower) for _, p, _ in fitted],
                         color=style.text_colour, thickness=max(1.2, style.line_width * 0.6),
                         width=style.marker_size * 0.4),
            customdata=[f"{lab}: {plotly_text(p.format())}" for _, p, lab in fitted],
            hovertemplate="%{customdata}<extra>" + name + "</extra>",
        ))
        texts, xs, ys = [], [], []
        for y, p, _ in estimates:
            if isinstance(p, ProportionEstimate):
                text = f"{p.count}/{p.denominator} ({p.percent()}%)"
                xs.append(100 * p.upper)
            else:
                text = f"— {plotly_text(short_reason(p))}"
                xs.append(0.0)
            texts.append(text)
            labels.append(text)
            ys.append(y)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="text", text=[f"  {t}" for t in texts],
                                 textposition="middle right", cliponaxis=False, showlegend=False, hoverinfo="skip",
                                 textfont=dict(size=style.annotation_size, color=style.text_colour),
                                 meta={"role": "toxicity_labels", "arm": key}))
    fig.update_layout(barmode="overlay", legend_traceorder="normal")
    fig.update_yaxes(tickmode="array", tickvals=centres, ticktext=[plotly_text(r.label) for r in table.rows],
                     range=[centres[-1] - 0.6, 0.6], showgrid=False, zeroline=False, fixedrange=True, ticks="")
    fig.update_xaxes(range=[0, 100], dtick=20 if style.presenter else 10, showline=True, ticks="outside",
                     title_text=f"% of patients (95% CI, {CLOPPER_PEARSON.split()[0]})", fixedrange=True)
    note = table.denominator_note
    if table.n_not_evaluable:
        note += f"; not safety-evaluable and without HSCT: {table.n_not_evaluable}"
    full_caption = f"{caption}\n{note}"
    frame = frame_for(style, title=title, caption=full_caption, bottom_px=x_axis_block(style),
                   legend=[a[1] for a in arms])
    label_px = max(text_px(r.label, style.tick_size) for r in table.rows) + 16
    right_px = max(text_px(t, style.annotation_size) for t in labels) + 20
    fixed_px = frame.margin_top(style) + frame.margin_bottom(style)
    rows_px = fitted_px(style, preferred=(len(table.rows) + 0.4) * style.row_px * 2.2, fixed=fixed_px,
                        minimum=(len(table.rows) + 0.4) * style.tick_size * 3)
    height = fixed_px + rows_px
    fig = finish(fig, style, frame, title=title, caption=full_caption, n=n, height=height, margin_l=label_px,
                  margin_r=right_px)
    fig.layout.meta = {"caption": caption, "n": n}
    return fig


def subgroup_bar_figure(rows: Sequence[SubgroupRate], *, title: str, axis_title: str, caption: str,
                        presenter: bool = False, width_px: int | None = None) -> go.Figure:
    """One bar per subgroup (e.g. VOD by salvage line) with exact CI whiskers and k/N (%) above."""
    style = chart_style(presenter, width_px)
    n = sum(r.rate.denominator if isinstance(r.rate, ProportionEstimate) else r.rate.n for r in rows)
    if not rows:
        return message_figure("No subgroups in this slice.", title=title, caption=caption, n=0,
                              presenter=presenter, width_px=width_px)
    xs = list(range(len(rows)))
    fitted = [(x, r) for x, r in zip(xs, rows) if isinstance(r.rate, ProportionEstimate)]
    colour = style.colour(0)
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=[x for x, _ in fitted], y=[100 * r.rate.estimate for _, r in fitted], width=0.6,  # type: ignore[union-attr]
        marker=dict(color=colour, line=dict(color=colour, width=1)), showlegend=False,
        error_y=dict(type="data", symmetric=False,
                     array=[100 * (r.rate.upper - r.rate.estimate) for _, r in fitted],  # type: ignore[union-attr]
                     arrayminus=[100 * (r.rate.estimate - r.rate.lower) for _, r in fitted],  # type: ignore[union-attr]
                     color=style.text_colour, thickness=max(1.2, style.line_width * 0.6),
                     width=style.marker_size * 0.6),
        customdata=[plotly_text(f"{r.label}: {r.rate.format()}") for _, r in fitted],  # type: ignore[union-attr]
        hovertemplate="%{customdata}<extra></extra>", meta={"role": "subgroup_bars"},
    ))
    texts, ys = [], []
    for r in rows:
        if isinstance(r.rate, ProportionEstimate):
            texts.append(f"{r.rate.count}/{r.rate.denominator}<br>{r.rate.percent()}%")
            ys.append(100 * r.rate.upper + 1.5)
        else:
            texts.append("—<br>" + wrapped_text(short_reason(r.rate), width_px=160, size=style.annotation_size))
            ys.append(0.0)
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="text", text=texts, textposition="top center", cliponaxis=False,
                             showlegend=False, hoverinfo="skip", meta={"role": "subgroup_labels"},
                             textfont=dict(size=style.annotation_size, color=style.text_colour)))
    fig.update_xaxes(tickmode="array", tickvals=xs, ticktext=[plotly_text(r.label) for r in rows], range=[-0.6, len(rows) - 0.4],
                     showline=True, fixedrange=True, showgrid=False, zeroline=False)
    fig.update_yaxes(range=[0, 100], dtick=20, title_text=plotly_text(axis_title), showline=True, ticks="outside",
                     fixedrange=True)
    frame = frame_for(style, title=title, caption=caption, bottom_px=style.tick_size * 1.8 + 8)
    label_px = text_px("100", style.tick_size) + style.axis_title_size * 1.6 + 20
    top_text_px = style.annotation_size * 2.8
    fixed_px = frame.margin_top(style) + top_text_px + frame.margin_bottom(style)
    height = fixed_px + fitted_px(style, preferred=style.plot_px * 0.85, fixed=fixed_px)
    fig = finish(fig, style, frame, title=title, caption=caption, n=n, height=height, margin_l=label_px,
                  margin_r=30)
    fig.update_layout(margin_t=fig.layout.margin.t + int(top_text_px))
    return fig
