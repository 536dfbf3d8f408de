"""The frame around every plot: title, legend rows, margins, height, and the caption stamp under
the plot (the slice in words and n) that lets an exported image explain itself.

Builders measure their parts with `frame_for` and `x_axis_block`, size the plot area themselves,
and hand the figure to `finish`. `message_figure` is the figure drawn when there is nothing to plot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from core.charts.style import ChartStyle, apply_style, chart_style, visible_chars, wrap_caption
from core.results import TooFewPatients


def _line_count(text: str) -> int:
    return text.count("<br>") + 1


def _legend_rows(names: Sequence[str], style: ChartStyle, width_px: float) -> int:
    """How many lines a horizontal legend of `names` takes at `width_px`."""
    rows, used = 1, 0.0
    for name in names:
        item = visible_chars(name) * style.legend_size * 0.52 + 44
        if used and used + item > width_px:
            rows, used = rows + 1, 0.0
        used += item
    return rows


def short_reason(too_few: TooFewPatients) -> str:
    """The reason without its leading subject (the row label already names it)."""
    prefix = f"{too_few.what}: "
    return too_few.reason[len(prefix):] if too_few.reason.startswith(prefix) else too_few.reason


@dataclass(frozen=True)
class Frame:
    """Pixel bookkeeping for the parts around the plot area."""

    title_px: float
    legend_px: float
    bottom_px: float       # from the bottom of the plot area to where the caption starts
    caption: str           # wrapped caption, lines joined by <br>

    def margin_top(self, style: ChartStyle) -> int:
        return int(self.title_px + self.legend_px + style.base_size * 0.6)

    def margin_bottom(self, style: ChartStyle) -> int:
        return int(self.bottom_px + _line_count(self.caption) * style.caption_size * 1.45 + style.caption_size)


def frame_for(style: ChartStyle, *, title: str, caption: str, bottom_px: float,
              legend: Sequence[str] = (), legend_width_px: float | None = None) -> Frame:
    """The frame of a figure with this title, caption and horizontal legend above the plot."""
    title_lines = _line_count(title) if title else 0
    title_px = style.base_size * 0.8 + title_lines * style.title_size * 1.35
    width = legend_width_px if legend_width_px is not None else style.nominal_width - 120
    legend_px = (_legend_rows(legend, style, width) * style.legend_size * 1.9 + 6) if legend else 0
    wrapped = wrap_caption(caption, width_px=style.nominal_width - 80, size=style.caption_size)
    return Frame(title_px=title_px, legend_px=legend_px, bottom_px=bottom_px, caption="<br>".join(wrapped))


def x_axis_block(style: ChartStyle, *, has_title: bool = True) -> float:
    """Pixels taken under the plot area by x tick labels and the x axis title."""
    return style.tick_size * 1.7 + (style.axis_title_size * 1.7 if has_title else 0) + 10


def finish(fig: go.Figure, style: ChartStyle, frame: Frame, *, title: str, caption: str, n: int,
           height: float, margin_l: float, margin_r: float, legend_top: bool = True) -> go.Figure:
    """Title, margins, height, legend placement, the caption stamp and `layout.meta`; then the style."""
    fig.update_layout(
        title=dict(text=title, x=0, xref="paper", xanchor="left", y=1, yref="container", yanchor="top",
                   pad=dict(t=int(style.base_size * 0.6)), font=dict(size=style.title_size)),
        height=int(height),
        margin=dict(l=int(margin_l), r=int(margin_r), t=frame.margin_top(style), b=frame.margin_bottom(style),
                    autoexpand=True),
        meta={"caption": caption, "n": int(n)},
    )
    if legend_top:
        fig.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=1, yanchor="bottom",
                                      yref="paper", bgcolor="rgba(255,255,255,0)", traceorder="normal",
                                      font=dict(size=style.legend_size)))
    fig.add_annotation(
        name="caption", text=frame.caption, showarrow=False, align="left",
        xref="paper", x=0, xanchor="left", yref="paper", y=0, yanchor="top", yshift=-frame.bottom_px,
        font=dict(size=style.caption_size, color=style.muted_colour),
    )
    return apply_style(fig, style)


def message_figure(message: str, *, title: str, caption: str, n: int = 0, presenter: bool = False,
                   width_px: int | None = None) -> go.Figure:
    """A figure that says, centred, why there is nothing to draw (never an empty plot or an error)."""
    style = chart_style(presenter, width_px)
    fig = go.Figure()
    fig.update_xaxes(visible=False, range=[0, 1])
    fig.update_yaxes(visible=False, range=[0, 1])
    text = "<br>".join(wrap_caption(message, width_px=style.nominal_width - 160, size=style.annotation_size))
    fig.add_annotation(name="message", text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       xanchor="center", yanchor="middle", align="center",
                       font=dict(size=style.annotation_size + 2, color=style.text_colour))
    frame = frame_for(style, title=title, caption=caption, bottom_px=8)
    height = frame.margin_top(style) + frame.margin_bottom(style) + max(160, 60 + _line_count(text) * 40)
    return finish(fig, style, frame, title=title, caption=caption, n=n, height=height, margin_l=40, margin_r=40,
                  legend_top=False)
