"""The cut-point scan: CR/CRi and OS at 6 and 12 months on each side of every threshold, and n.

One panel per figure, sharing the threshold axis; each side is a step line with its CI band. A
threshold t splits the slice into value < t and value ≥ t, and every t between two observed values
gives the same split, so the lines step at the observed values ("vh": the value drawn at a threshold
holds back to the previous one). The paper's split (50% blasts) is marked, and the best split when
the page has asked for it.
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.charts.layout import finish, frame_for, message_figure, x_axis_block
from core.charts.style import OKABE_ITO, ChartStyle, chart_style, rgba, text_px, wrap_caption
from core.cutpoints import CutpointRow, CutpointScan, OsLandmarks
from core.groupings import format_number
from core.results import ProportionEstimate, TooFewPatients
from core.text import plotly_text

SIDES: tuple[str, ...] = ("below", "above")
METHOD_NOTE = ("CR/CRi: exact (Clopper–Pearson) 95% CI; OS: Kaplan–Meier, 95% pointwise CI (log(−log)). "
               "Each threshold t splits the slice into value < t and value ≥ t; the lines step at the observed "
               "values, between which every threshold gives the same split.")

Value = tuple[float | None, float | None, float | None, str]   # estimate, lower, upper (in %), hover text


def _rate(result: ProportionEstimate | TooFewPatients) -> Value:
    if isinstance(result, TooFewPatients):
        return None, None, None, plotly_text(result.reason)
    return (100 * result.estimate, 100 * result.lower, 100 * result.upper,
            f"{result.count}/{result.denominator} · {result.percent()}%")


def _landmark(result: OsLandmarks | TooFewPatients, months: float) -> Value:
    if isinstance(result, TooFewPatients):
        return None, None, None, plotly_text(result.reason)
    rate = result.at(months)
    if rate.estimate is None:
        return None, None, None, f"follow-up shorter than {months:g} months"
    lower = None if rate.lower is None else 100 * rate.lower
    upper = None if rate.upper is None else 100 * rate.upper
    return 100 * rate.estimate, lower, upper, f"{rate.format()} · {rate.at_risk} at risk"


def _cr_cri(row: CutpointRow, side: str) -> Value:
    return _rate(row.cr_cri_below if side == "below" else row.cr_cri_above)


def _os_at(months: float) -> Callable[[CutpointRow, str], Value]:
    def value(row: CutpointRow, side: str) -> Value:
        return _landmark(row.os_below if side == "below" else row.os_above, months)
    return value


def _panels(scan: CutpointScan) -> list[tuple[str, Callable[[CutpointRow, str], Value]]]:
    """(y-axis title, the value of a row's side) per panel: CR/CRi, then OS at each landmark."""
    return [("CR/CRi, %", _cr_cri)] + [(f"OS at {m:g} months, %", _os_at(m)) for m in scan.landmark_months]


def cutpoint_figure(scan: CutpointScan, *, caption: str, presenter: bool = False, width_px: int | None = None,
                    best: float | None = None, best_label: str = "best split", title: str | None = None) -> go.Figure:
    """Each side's CR/CRi and OS landmarks (with CIs) and n against the threshold, the paper's split marked."""
    style = chart_style(presenter, width_px)
    title = title if title is not None else f"CR/CRi and OS either side of each {scan.title.lower()} threshold"
    # a long title on a journal column takes two lines rather than running off the figure
    title = "<br>".join(plotly_text(line) for line in
                        wrap_caption(title, width_px=style.nominal_width - 40, size=style.title_size))
    if not scan.rows:
        return message_figure(f"No threshold splits this slice: {scan.title.lower()} takes fewer than two values "
                              f"among its {scan.n - scan.n_missing} patients with a value.", title=title,
                              caption=caption, n=scan.n, presenter=presenter, width_px=width_px)
    panels = _panels(scan)
    n_rows = len(panels) + 1
    panel_px = style.plot_px * 0.5
    count_px = style.plot_px * 0.32
    gap_px = style.axis_title_size * 2.6
    area_px = len(panels) * panel_px + count_px + (n_rows - 1) * gap_px
    fig = make_subplots(rows=n_rows, cols=1, shared_xaxes=True, vertical_spacing=gap_px / area_px,
                        row_heights=[panel_px] * len(panels) + [count_px])
    xs = [row.threshold for row in scan.rows]
    unit = scan.unit if scan.unit != "%" else "%"
    names = {"below": "Below the threshold (value < t)", "above": "At or above it (value ≥ t)"}
    for r, (axis_title, value_of) in enumerate(panels, start=1):
        for i, side in enumerate(SIDES):
            _side_traces(fig, style, r, i, side, names[side], xs, [value_of(row, side) for row in scan.rows],
                         show_legend=r == 1, unit=unit)
        fig.update_yaxes(row=r, col=1, range=[-3, 103], tickvals=[0, 25, 50, 75, 100], title_text=axis_title,
                         showline=True, ticks="outside", zeroline=False)
    for i, side in enumerate(SIDES):
        counts = [row.n_below if side == "below" else row.n_above for row in scan.rows]
        fig.add_trace(go.Scatter(
            x=xs, y=counts, mode="lines+markers", name=names[side], legendgroup=side, showlegend=False,
            line=dict(color=style.colour(i), dash=style.dash(i), width=style.line_width, shape="vh"),
            marker=dict(symbol=style.symbol(i), size=max(4, style.marker_size - 3), color=style.colour(i)),
            hovertemplate=f"t = %{{x:g}} {unit}: %{{y}} patients {'below' if side == 'below' else 'at or above'}"
                          "<extra></extra>", meta={"role": "n", "side": side}), row=n_rows, col=1)
    fig.update_yaxes(row=n_rows, col=1, title_text="Patients", rangemode="tozero", showline=True, ticks="outside",
                     zeroline=False)
    x_title = f"Threshold t: {scan.title.lower()} ({scan.unit})"
    lo, hi = min(xs), max(xs)
    pad = (hi - lo) * 0.03 or 1.0
    fig.update_xaxes(range=[lo - pad, hi + pad], showgrid=True, zeroline=False)
    fig.update_xaxes(row=n_rows, col=1, title_text=x_title, showline=True, ticks="outside")
    for r in range(1, n_rows):
        fig.update_xaxes(row=r, col=1, showticklabels=True, ticks="outside", showline=True)

    marks = []
    if scan.reference is not None and any(row.is_reference for row in scan.rows):
        marks.append((scan.reference, f"{format_number(scan.reference)}{_unit(scan.unit)}: {scan.reference_label}",
                      style.text_colour, "dash", "reference"))
    if best is not None:
        marks.append((best, f"{format_number(best)}{_unit(scan.unit)}: {best_label}", OKABE_ITO["vermillion"],
                      "dot", "best"))
    for k, (x, label, colour, dash, role) in enumerate(marks):
        for r in range(1, n_rows + 1):   # within each panel, so the line never crosses a tick label
            fig.add_shape(name=f"cutpoint-{role}", type="line", xref="x", x0=x, x1=x,
                          yref=f"y{'' if r == 1 else r} domain", y0=0, y1=1,
                          line=dict(color=colour, width=max(1.5, style.line_width * 0.75), dash=dash))
        fig.add_annotation(name=f"cutpoint-{role}-label", text=plotly_text(label), showarrow=False, xref="x", x=x,
                           xanchor="left" if x <= (lo + hi) / 2 else "right", xshift=4 if x <= (lo + hi) / 2 else -4,
                           yref="paper", y=1, yanchor="bottom", yshift=2 + k * (style.annotation_size + 6),
                           font=dict(size=style.annotation_size, color=colour))

    notes = METHOD_NOTE
    if scan.n_missing:
        notes += f" {scan.n_missing} patient{'s' if scan.n_missing != 1 else ''} without a value on neither side."
    full_caption = f"{caption}\n{notes}"
    legend = [names["below"], names["above"], "95% CI"]
    frame = frame_for(style, title=title, caption=full_caption, bottom_px=x_axis_block(style), legend=legend)
    marks_px = len(marks) * (style.annotation_size + 6)
    height = frame.margin_top(style) + marks_px + area_px + frame.margin_bottom(style)
    fig = finish(fig, style, frame, title=title, caption=full_caption, n=scan.n, height=height,
                 margin_l=text_px("100", style.tick_size) + style.axis_title_size * 1.8 + 24, margin_r=24)
    fig.update_layout(margin=dict(t=int(frame.margin_top(style) + marks_px)),
                      legend=dict(y=1, yanchor="bottom", yref="paper"))
    fig.update_layout(legend_y=1 + (marks_px + 4) / max(area_px, 1))
    extra_lines = title.count("<br>")
    if extra_lines:   # plotly raises a title's later lines above its anchor: push it down by as many
        fig.layout.title.pad.t = int((fig.layout.title.pad.t or 0) + extra_lines * style.title_size * 1.3)
    return fig


def _unit(unit: str) -> str:
    return unit if unit == "%" else f" {unit}"


def _side_traces(fig: go.Figure, style: ChartStyle, row: int, i: int, side: str, name: str, xs: list[float],
                 values: list[Value], *, show_legend: bool, unit: str) -> None:
    colour = style.colour(i)
    est = [v[0] for v in values]
    lower = [v[1] for v in values]
    upper = [v[2] for v in values]
    fig.add_trace(go.Scatter(x=xs, y=upper, mode="lines", line=dict(width=0, shape="vh"), hoverinfo="skip",
                             showlegend=False, legendgroup="ci", connectgaps=False,
                             meta={"role": "ci_upper", "side": side}), row=row, col=1)
    fig.add_trace(go.Scatter(x=xs, y=lower, mode="lines", line=dict(width=0, shape="vh"), fill="tonexty",
                             fillcolor=rgba(colour, 0.13), hoverinfo="skip", name="95% CI", legendgroup="ci",
                             showlegend=show_legend and i == 0, connectgaps=False, legendrank=900,
                             meta={"role": "ci_lower", "side": side}), row=row, col=1)
    words = "below" if side == "below" else "at or above"
    fig.add_trace(go.Scatter(
        x=xs, y=est, mode="lines+markers", name=name, legendgroup=side, showlegend=show_legend,
        legendrank=100 + i, connectgaps=False,
        line=dict(color=colour, dash=style.dash(i), width=style.line_width, shape="vh"),
        marker=dict(symbol=style.symbol(i), size=max(4, style.marker_size - 3), color=colour),
        customdata=[v[3] for v in values],
        hovertemplate=f"t = %{{x:g}} {unit}, {words}: %{{customdata}}<extra></extra>",
        meta={"role": "estimate", "side": side, "panel": row}), row=row, col=1)


__all__ = ["METHOD_NOTE", "cutpoint_figure"]
