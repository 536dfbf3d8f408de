"""Forest plot: a rate with its exact CI per subgroup, under the rate for all patients in the slice,
with n/N and % (95% CI) as text columns beside the plot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from core.charts.layout import finish, fitted_px, frame_for, short_reason, x_axis_block
from core.charts.style import chart_style, text_px
from core.response import SubgroupRate
from core.results import ProportionEstimate, TooFewPatients, format_percent
from core.text import plotly_text


def _ci_text(p: ProportionEstimate, decimals: int = 1) -> str:
    """'61.1 (35.7–82.7)'."""
    return (f"{p.percent(decimals)} ({format_percent(100 * p.lower, decimals)}–"
            f"{format_percent(100 * p.upper, decimals)})")


@dataclass(frozen=True)
class _ForestRow:
    label: str                                         # as shown: escaped
    rate: ProportionEstimate | TooFewPatients | None   # None = section header
    kind: str                                          # "overall", "subgroup" or "header"


def forest_figure(rows: Sequence[SubgroupRate], overall: ProportionEstimate | TooFewPatients, *, title: str,
                  caption: str, presenter: bool = False,
                  sections: Sequence[tuple[str, Sequence[SubgroupRate]]] | None = None,
                  axis_title: str = "CR/CRi, % (95% CI, Clopper–Pearson)",
                  overall_label: str = "All patients", width_px: int | None = None) -> go.Figure:
    """Rates with exact CIs per subgroup, in the given order, under an "All patients" row.

    `rows` are drawn first without a header; each `sections` entry adds a bold header row and
    its subgroups (pass `rows=()` for a fully sectioned chart). Labels, headers and titles are
    plain text (escaped here).
    """
    style = chart_style(presenter, width_px)
    layout_rows = [_ForestRow(plotly_text(overall_label), overall, "overall")]
    layout_rows += [_ForestRow(plotly_text(r.label), r.rate, "subgroup") for r in rows]
    for header, section_rows in sections or ():
        layout_rows.append(_ForestRow(plotly_text(header), None, "header"))
        layout_rows += [_ForestRow(plotly_text(r.label), r.rate, "subgroup") for r in section_rows]
    ys = [-float(i) for i in range(len(layout_rows))]

    fig = go.Figure()
    fig.add_shape(name="grid-overall-separator", type="line", xref="paper", x0=0, x1=1, yref="y", y0=-0.5,
                  y1=-0.5, line=dict(color=style.grid_colour, width=1), layer="below")
    if isinstance(overall, ProportionEstimate):
        fig.add_shape(name="overall-reference", type="line", xref="x", x0=100 * overall.estimate,
                      x1=100 * overall.estimate, yref="paper", y0=0, y1=1, layer="below",
                      line=dict(color=style.muted_colour, width=max(1.0, style.line_width * 0.6), dash="dash"))

    def add_points(kind: str, colour: str, symbol: str, size: int, name: str) -> None:
        picked = [(y, r.rate) for y, r in zip(ys, layout_rows)
                  if r.kind == kind and isinstance(r.rate, ProportionEstimate)]
        if not picked:
            return
        fig.add_trace(go.Scatter(
            x=[100 * p.estimate for _, p in picked], y=[y for y, _ in picked], mode="markers", name=name,
            meta={"role": kind}, showlegend=False, cliponaxis=False,
            marker=dict(color=colour, symbol=symbol, size=size, line=dict(color=style.background, width=1)),
            error_x=dict(type="data", symmetric=False, array=[100 * (p.upper - p.estimate) for _, p in picked],
                         arrayminus=[100 * (p.estimate - p.lower) for _, p in picked], color=colour,
                         thickness=max(1.5, style.line_width * 0.75), width=style.marker_size * 0.45),
            text=[plotly_text(p.label) for _, p in picked], customdata=[plotly_text(p.format()) for _, p in picked],
            hovertemplate="<b>%{text}</b><br>%{customdata}<extra></extra>",
        ))

    add_points("subgroup", style.colour(0), "square", style.marker_size + 1, "Subgroups")
    add_points("overall", style.text_colour, "diamond", style.marker_size + 5, plotly_text(overall_label))

    # Text columns beside the plot area: n/N and % (95% CI).
    count_texts = [("n/N", "% (95% CI)")]
    for row in layout_rows:
        if isinstance(row.rate, ProportionEstimate):
            count_texts.append((f"{row.rate.count}/{row.rate.denominator}", _ci_text(row.rate)))
        elif isinstance(row.rate, TooFewPatients):
            count_texts.append(("—", "—"))
        else:
            count_texts.append(("", ""))
    size = style.annotation_size
    col1_px = max(text_px(a, size) for a, _ in count_texts) + 14
    col2_px = max(text_px(b, size) for _, b in count_texts) + 10
    gap = 14
    for (count_text, ci_text), y, row in zip(count_texts[1:], ys, layout_rows):
        if not count_text:
            continue
        bold = row.kind == "overall"
        for text, shift, role in ((count_text, gap, "count"), (ci_text, gap + col1_px, "ci")):
            fig.add_annotation(name=f"forest-{role}", text=f"<b>{text}</b>" if bold else text, showarrow=False,
                               xref="paper", x=1, xanchor="left", xshift=shift, yref="y", y=y, yanchor="middle",
                               font=dict(size=size))
        if isinstance(row.rate, TooFewPatients):
            fig.add_annotation(name="forest-too-few", text=f"— {plotly_text(short_reason(row.rate))}", showarrow=False,
                               xref="x", x=1.5, xanchor="left", yref="y", y=y, yanchor="middle",
                               font=dict(size=size, color=style.muted_colour))
    for text, shift, role in (("n/N", gap, "count-header"), ("% (95% CI)", gap + col1_px, "ci-header")):
        fig.add_annotation(name=f"forest-{role}", text=f"<b>{text}</b>", showarrow=False, xref="paper", x=1,
                           xanchor="left", xshift=shift, yref="y", y=0.75, yanchor="middle", font=dict(size=size))

    tick_text = [row.label if row.kind == "subgroup" else f"<b>{row.label}</b>" for row in layout_rows]
    fig.update_yaxes(tickmode="array", tickvals=ys, ticktext=tick_text, range=[ys[-1] - 0.6, 1.25],
                     showgrid=False, zeroline=False, fixedrange=True, ticks="", automargin=True,
                     ticklabelstandoff=int(style.marker_size * 0.9))
    fig.update_xaxes(range=[0, 100], dtick=20 if style.presenter else 10, ticksuffix="", title_text=plotly_text(axis_title),
                     showline=True, ticks="outside", zeroline=False, fixedrange=True, showgrid=True)

    frame = frame_for(style, title=title, caption=caption, bottom_px=x_axis_block(style))
    label_px = max(text_px(t, style.tick_size) for t in tick_text) + 16 + style.marker_size
    fixed_px = frame.margin_top(style) + frame.margin_bottom(style)
    plot_px = fitted_px(style, preferred=(len(layout_rows) + 1.8) * style.row_px, fixed=fixed_px,
                        minimum=(len(layout_rows) + 1.8) * style.tick_size * 1.3)
    height = frame.margin_top(style) + plot_px + frame.margin_bottom(style)
    n = overall.denominator if isinstance(overall, ProportionEstimate) else overall.n
    return finish(fig, style, frame, title=title, caption=caption, n=n, height=height, margin_l=label_px,
                   margin_r=gap + col1_px + col2_px + 10, legend_top=False)
