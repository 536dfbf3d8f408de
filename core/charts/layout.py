"""The frame around every plot: title, an optional warning banner, legend rows, margins, height,
and the caption stamp under the plot (the slice in words and n) that lets an exported image
explain itself.

Builders measure their parts with `frame_for` and `x_axis_block`, size the plot area themselves
(`fitted_px` keeps a presenter-mode chart under the style's maximum height), and hand the figure to
`finish`. `message_figure` is the figure drawn when there is nothing to plot.

Text handed to this module (title, caption, banner, message) is plain text: it is escaped here,
once, with `core.text.plotly_text`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from core.charts.style import WARNING_COLOUR, ChartStyle, apply_style, chart_style, visible_chars, wrapped_text
from core.results import TooFewPatients
from core.text import plotly_text


def _line_count(text: str) -> int:
    return text.count("<br>") + 1


def _legend_rows(names: Sequence[str], style: ChartStyle, width_px: float) -> int:
    """How many lines a horizontal legend of `names` takes at `width_px`. Like plotly: the entries
    share one line when they fit, else every entry takes the widest entry's width (columns)."""
    widths = [visible_chars(name) * style.legend_size * 0.52 + 44 for name in names]
    if not widths or sum(widths) <= width_px:
        return 1
    per_row = max(1, int(width_px // max(widths)))
    return math.ceil(len(widths) / per_row)


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
    caption: str           # wrapped and escaped caption, lines joined by <br>
    banner: str = ""       # wrapped and escaped warning line(s) between the title and the legend
    banner_px: float = 0.0

    def margin_top(self, style: ChartStyle) -> int:
        return int(self.title_px + self.banner_px + self.legend_px + style.base_size * 0.6)

    def margin_bottom(self, style: ChartStyle) -> int:
        tail = style.caption_size * (0.6 if style.presenter else 1.0)     # air under the last line
        return int(self.bottom_px + _line_count(self.caption) * style.caption_size * 1.45 + tail)


def frame_for(style: ChartStyle, *, title: str, caption: str, bottom_px: float,
              legend: Sequence[str] = (), legend_width_px: float | None = None,
              banner: str | None = None) -> Frame:
    """The frame of a figure with this title, caption, warning banner and horizontal legend above
    the plot. `legend` holds the legend's entries as they are shown (escaped); the rest is plain text."""
    title_lines = _line_count(title) if title else 0
    title_px = style.base_size * 0.8 + title_lines * style.title_size * (1.25 if style.presenter else 1.35)
    width = legend_width_px if legend_width_px is not None else style.nominal_width - 120
    legend_pitch = 1.5 if style.presenter else 1.9
    legend_px = (_legend_rows(legend, style, width) * style.legend_size * legend_pitch + 6) if legend else 0
    caption_text = wrapped_text(caption, width_px=style.nominal_width - 80, size=style.caption_size)
    banner_text, banner_px = "", 0.0
    if banner:
        banner_text = wrapped_text(f"⚠ {banner}", width_px=style.nominal_width - 60, size=style.annotation_size)
        banner_px = _line_count(banner_text) * style.annotation_size * 1.35 + style.annotation_size * 0.5
    return Frame(title_px=title_px, legend_px=legend_px, bottom_px=bottom_px, caption=caption_text,
                 banner=banner_text, banner_px=banner_px)


def fitted_px(style: ChartStyle, *, preferred: float, fixed: float, minimum: float | None = None) -> float:
    """The height for a chart's flexible part (its plot area, or its rows): `preferred`, shrunk so
    that with the `fixed` parts the chart stays under the style's maximum height, but never below
    `minimum` (default: the style's smallest plot area) nor above `preferred`."""
    if style.max_height_px is None:
        return preferred
    floor = min(preferred, style.min_plot_px if minimum is None else minimum)
    return max(floor, min(preferred, style.max_height_px - fixed))


def x_axis_block(style: ChartStyle, *, has_title: bool = True) -> float:
    """Pixels taken under the plot area by x tick labels and the x axis title."""
    if style.presenter:     # large type needs less air around it; height is what a big screen lacks
        return style.tick_size * 1.5 + (style.axis_title_size * 1.45 if has_title else 0) + 6
    return style.tick_size * 1.7 + (style.axis_title_size * 1.7 if has_title else 0) + 10


def finish(fig: go.Figure, style: ChartStyle, frame: Frame, *, title: str, caption: str, n: int,
           height: float, margin_l: float, margin_r: float, legend_top: bool = True,
           banner_name: str = "banner") -> go.Figure:
    """Title, margins, height, legend placement, the banner, the caption stamp and `layout.meta`
    (which keeps the caption as plain text); then the style. `title` is plain text."""
    fig.update_layout(
        title=dict(text=plotly_text(title), x=0, xref="paper", xanchor="left", y=1, yref="container", yanchor="top",
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
    if frame.banner:
        # under the title, above the legend: part of every exported image, not only of the page
        fig.add_annotation(
            name=banner_name, text=frame.banner, showarrow=False, align="left",
            xref="paper", x=0, xanchor="left", yref="paper", y=1, yanchor="bottom",
            yshift=frame.legend_px + 2, font=dict(size=style.annotation_size, color=WARNING_COLOUR),
        )
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
    text = wrapped_text(message, width_px=style.nominal_width - 160, size=style.annotation_size)
    fig.add_annotation(name="message", text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       xanchor="center", yanchor="middle", align="center",
                       font=dict(size=style.annotation_size + 2, color=style.text_colour))
    frame = frame_for(style, title=title, caption=caption, bottom_px=8)
    height = frame.margin_top(style) + frame.margin_bottom(style) + max(160, 60 + _line_count(text) * 40)
    return finish(fig, style, frame, title=title, caption=caption, n=n, height=height, margin_l=40, margin_r=40,
                  legend_top=False)
