"""Pure figure builders: results in, a plotly figure out, the slice and its n stamped on it.

Every builder takes results already computed by the endpoint modules (`core.response`,
`core.survival`, `core.safety`, `core.queries` listings) and only lays them out: no SQL, no
streamlit, no estimation. Each figure

* carries its caption (the slice in words and n) as an annotation under the plot, so an exported
  image explains itself, and in `fig.layout.meta = {"caption": ..., "n": ...}`;
* has a fixed pixel height (exports look the same as the screen; the width follows the container);
* uses the Okabe–Ito colour-blind-safe palette with a redundant line dash / marker symbol per group;
* in presenter mode (tumour board, large screen) uses black text on white and no font below 18 pt.

Traces and annotations carry a `meta={"role": ...}` (traces) or `name` (annotations, shapes) so
that tests and pages can find the parts of a figure without relying on their order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from core.queries import DAYS_PER_MONTH
from core.response import ResponseComposition, SubgroupRate
from core.results import CLOPPER_PEARSON, ProportionEstimate, TooFewPatients, format_percent
from core.safety import ToxicityByHsct
from core.survival import SPARSE_AT_RISK, SurvivalAnalysis, SurvivalCurve

PRESENTER_MIN_FONT = 18
FONT_FAMILY = "Arial, Helvetica, 'Liberation Sans', sans-serif"


def _lean_white_template() -> go.layout.Template:
    """plotly_white with only what these charts draw (scatter, bar and table defaults; no 3-D, map,
    polar or ternary axes, no colour scales). The full template costs ~15 ms of validation per
    figure, several times per filter click, and travels to the browser inside every figure."""
    full = pio.templates["plotly_white"].to_plotly_json()
    unused_layout = {"scene", "polar", "ternary", "geo", "mapbox", "coloraxis", "colorscale"}
    return go.layout.Template({
        "data": {k: v for k, v in full["data"].items() if k in ("scatter", "bar", "table")},
        "layout": {k: v for k, v in full["layout"].items() if k not in unused_layout},
    })


pio.templates["ino_white"] = _lean_white_template()
TEMPLATE = "ino_white"

# Okabe & Ito (2008), "Color universal design": distinguishable with every common colour-vision deficiency.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
# Group order: the darkest, most distinct hues first; yellow (poor on white) is left out of lines.
GROUP_COLOURS: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
# Plain "dash" is kept for the sparse tail of a Kaplan–Meier curve, so groups use the others.
GROUP_DASHES: tuple[str, ...] = ("solid", "dashdot", "dot", "longdashdot", "longdash", "6px,3px,2px,3px,2px,3px")
GROUP_SYMBOLS: tuple[str, ...] = ("circle", "square", "diamond", "triangle-up", "triangle-down", "hexagram", "star")
SPARSE_DASH = "dash"

RESPONSE_COLOURS: dict[str, str] = {
    "CR": OKABE_ITO["blue"],
    "CRi": OKABE_ITO["sky_blue"],
    "NR": OKABE_ITO["vermillion"],
    "not evaluable": "#999999",
}
RESPONSE_LABELS: dict[str, str] = {"CR": "CR", "CRi": "CRi", "NR": "No response", "not evaluable": "Not evaluable"}
RESPONSE_PATTERNS: dict[str, str] = {"CR": "", "CRi": ".", "NR": "/", "not evaluable": "x"}


# --------------------------------------------------------------------------------------- style
@dataclass(frozen=True)
class ChartStyle:
    """Sizes, colours and encodings for one display context (screen/export or presenter)."""

    presenter: bool
    font_family: str
    text_colour: str
    muted_colour: str
    grid_colour: str
    axis_colour: str
    background: str
    base_size: int
    title_size: int
    axis_title_size: int
    tick_size: int
    legend_size: int
    annotation_size: int
    table_size: int
    caption_size: int
    line_width: float
    marker_size: int
    row_px: int                 # height of one categorical row (forest, bars, swimmer lanes)
    plot_px: int                # height of a Kaplan–Meier plot area
    nominal_width: int          # the width (px) captions and legends are wrapped for (Streamlit's centred column)
    palette: tuple[str, ...] = GROUP_COLOURS
    dashes: tuple[str, ...] = GROUP_DASHES
    symbols: tuple[str, ...] = GROUP_SYMBOLS

    def colour(self, i: int) -> str:
        return self.palette[i % len(self.palette)]

    def dash(self, i: int) -> str:
        return self.dashes[i % len(self.dashes)]

    def symbol(self, i: int) -> str:
        return self.symbols[i % len(self.symbols)]

    @property
    def min_font(self) -> int:
        """The smallest font any text of a figure may have in this style."""
        return PRESENTER_MIN_FONT if self.presenter else min(
            self.base_size, self.tick_size, self.legend_size, self.annotation_size, self.table_size,
            self.caption_size)


NARROW_WIDTH = 480   # px; below this a chart is laid out for a journal column (3.5 in = 336 px)


def chart_style(presenter: bool = False, width_px: int | None = None) -> ChartStyle:
    """Compact sizes for the dashboard and exports; large, high-contrast sizes for a tumour board.

    `width_px` is the width the figure will be shown or exported at (None: the dashboard's column).
    Below NARROW_WIDTH the compact style shrinks to journal-column type (10 px = 7.5 pt at 96 px
    per inch, the usual minimum for a printed figure) so that labels still fit beside the plot.
    """
    if presenter:
        style = ChartStyle(presenter=True, font_family=FONT_FAMILY, text_colour="#000000", muted_colour="#000000",
                           grid_colour="#C8C8C8", axis_colour="#000000", background="#FFFFFF",
                           base_size=20, title_size=28, axis_title_size=22, tick_size=20, legend_size=20,
                           annotation_size=20, table_size=20, caption_size=18, line_width=3.5, marker_size=14,
                           row_px=44, plot_px=540, nominal_width=1200)
    elif width_px is not None and width_px < NARROW_WIDTH:
        style = ChartStyle(presenter=False, font_family=FONT_FAMILY, text_colour="#1A1A1A", muted_colour="#4D4D4D",
                           grid_colour="#E5E5E5", axis_colour="#444444", background="#FFFFFF",
                           base_size=10, title_size=12, axis_title_size=10, tick_size=10, legend_size=10,
                           annotation_size=10, table_size=10, caption_size=10, line_width=1.5, marker_size=7,
                           row_px=20, plot_px=240, nominal_width=720)
    else:
        style = ChartStyle(presenter=False, font_family=FONT_FAMILY, text_colour="#1A1A1A", muted_colour="#4D4D4D",
                           grid_colour="#E5E5E5", axis_colour="#444444", background="#FFFFFF",
                           base_size=12, title_size=16, axis_title_size=13, tick_size=12, legend_size=12,
                           annotation_size=12, table_size=12, caption_size=11, line_width=2.0, marker_size=9,
                           row_px=26, plot_px=380, nominal_width=720)
    return style if width_px is None else replace(style, nominal_width=int(width_px))


def apply_style(fig: go.Figure, style: ChartStyle) -> go.Figure:
    """Fonts, colours and template for every part of `fig`; in presenter mode no font stays below 18 pt.

    Builder-set sizes are kept unless they are below the style's minimum; unset sizes get the
    style's size for that kind of text.
    """
    floor = style.min_font if style.presenter else 1

    def size(current: float | None, default: int) -> int | float:
        return max(current if current is not None else default, floor)

    fig.update_layout(
        template=TEMPLATE,
        paper_bgcolor=style.background,
        plot_bgcolor=style.background,
        font=dict(family=style.font_family, size=size(None, style.base_size), color=style.text_colour),
        title_font=dict(family=style.font_family, size=size(fig.layout.title.font.size, style.title_size),
                        color=style.text_colour),
        legend_font=dict(size=size(fig.layout.legend.font.size, style.legend_size), color=style.text_colour),
        legend_title_font=dict(size=size(fig.layout.legend.title.font.size, style.legend_size)),
        hoverlabel_font=dict(size=size(fig.layout.hoverlabel.font.size, style.base_size)),
    )

    def axis(ax: go.layout.XAxis | go.layout.YAxis) -> None:
        ax.update(tickfont=dict(size=size(ax.tickfont.size, style.tick_size), color=style.text_colour),
                  title_font=dict(size=size(ax.title.font.size, style.axis_title_size), color=style.text_colour),
                  gridcolor=style.grid_colour, linecolor=style.axis_colour, tickcolor=style.axis_colour,
                  zerolinecolor=style.grid_colour)

    fig.for_each_xaxis(axis)
    fig.for_each_yaxis(axis)
    for annotation in fig.layout.annotations:
        annotation.font.size = size(annotation.font.size, style.annotation_size)
        if annotation.font.color is None:
            annotation.font.color = style.text_colour
    for trace in fig.data:
        if hasattr(trace, "textfont"):
            trace.textfont.size = size(trace.textfont.size, style.annotation_size)
    return fig


# --------------------------------------------------------------------------------------- helpers
_TAG = re.compile(r"<[^>]+>")


def _text_px(text: str, size: float) -> float:
    """A generous width estimate of one line of text (no font metrics in a pure module)."""
    lines = _TAG.sub("", text.replace("<br>", "\n")).split("\n")
    return max((len(line) for line in lines), default=0) * size * 0.58


def _wrap(text: str, size: float, width_px: float) -> str:
    """Break at ' · ' separators (then spaces) so that each line fits `width_px`."""
    limit = max(20, int(width_px / (size * 0.6)))  # generous: proportional fonts run wide
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for token in _tokens(paragraph, limit):
            candidate = token if not current else f"{current} · {token}"
            if current and len(candidate) > limit:
                lines.append(current)
                current = token
            else:
                current = candidate
        lines.append(current)
    return "<br>".join(lines)


def _tokens(paragraph: str, limit: int) -> list[str]:
    out: list[str] = []
    for part in paragraph.split(" · "):
        while len(part) > limit:
            cut = part.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            out.append(part[:cut].rstrip())
            part = part[cut:].lstrip()
        out.append(part)
    return out


def _lines(text: str) -> int:
    return text.count("<br>") + 1


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _ci_text(p: ProportionEstimate, decimals: int = 1) -> str:
    """'61.1 (35.7–82.7)'."""
    return (f"{p.percent(decimals)} ({format_percent(100 * p.lower, decimals)}–"
            f"{format_percent(100 * p.upper, decimals)})")


def _short_reason(t: TooFewPatients) -> str:
    """The reason without its leading subject (the row label already names it)."""
    prefix = f"{t.what}: "
    return t.reason[len(prefix):] if t.reason.startswith(prefix) else t.reason


def _legend_rows(names: Sequence[str], style: ChartStyle, width_px: float) -> int:
    """How many lines a horizontal legend of `names` takes at `width_px`."""
    rows, used = 1, 0.0
    for name in names:
        item = len(_TAG.sub("", name)) * style.legend_size * 0.52 + 44
        if used and used + item > width_px:
            rows, used = rows + 1, 0.0
        used += item
    return rows


@dataclass(frozen=True)
class _Frame:
    """Pixel bookkeeping for the parts around the plot area."""

    title_px: float
    legend_px: float
    bottom_px: float       # from the bottom of the plot area to where the caption starts
    caption: str           # wrapped caption

    def margin_top(self, style: ChartStyle) -> int:
        return int(self.title_px + self.legend_px + style.base_size * 0.6)

    def margin_bottom(self, style: ChartStyle) -> int:
        return int(self.bottom_px + _lines(self.caption) * style.caption_size * 1.45 + style.caption_size)


def _frame(style: ChartStyle, *, title: str, caption: str, bottom_px: float,
           legend: Sequence[str] = (), legend_width_px: float | None = None) -> _Frame:
    title_lines = _lines(title) if title else 0
    title_px = style.base_size * 0.8 + title_lines * style.title_size * 1.35
    width = legend_width_px if legend_width_px is not None else style.nominal_width - 120
    legend_px = (_legend_rows(legend, style, width) * style.legend_size * 1.9 + 6) if legend else 0
    return _Frame(title_px=title_px, legend_px=legend_px, bottom_px=bottom_px,
                  caption=_wrap(caption, style.caption_size, style.nominal_width - 80))


def _x_axis_block(style: ChartStyle, *, has_title: bool = True) -> float:
    """Pixels taken under the plot area by x tick labels and the x axis title."""
    return style.tick_size * 1.7 + (style.axis_title_size * 1.7 if has_title else 0) + 10


def _finish(fig: go.Figure, style: ChartStyle, frame: _Frame, *, title: str, caption: str, n: int,
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
    text = "<br>".join(_wrap(line, style.annotation_size, style.nominal_width - 160) for line in message.split("\n"))
    fig.add_annotation(name="message", text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       xanchor="center", yanchor="middle", align="center",
                       font=dict(size=style.annotation_size + 2, color=style.text_colour))
    frame = _frame(style, title=title, caption=caption, bottom_px=8)
    height = frame.margin_top(style) + frame.margin_bottom(style) + max(160, 60 + _lines(text) * 40)
    return _finish(fig, style, frame, title=title, caption=caption, n=n, height=height, margin_l=40, margin_r=40,
                   legend_top=False)


# --------------------------------------------------------------------------------------- forest
@dataclass(frozen=True)
class _ForestRow:
    label: str
    rate: ProportionEstimate | TooFewPatients | None   # None = section header
    kind: str                                          # "overall", "subgroup" or "header"


def forest_figure(rows: Sequence[SubgroupRate], overall: ProportionEstimate | TooFewPatients, *, title: str,
                  caption: str, presenter: bool = False,
                  sections: Sequence[tuple[str, Sequence[SubgroupRate]]] | None = None,
                  axis_title: str = "CR/CRi, % (95% CI, Clopper–Pearson)",
                  overall_label: str = "All patients", width_px: int | None = None) -> go.Figure:
    """Rates with exact CIs per subgroup, in the given order, under an "All patients" row.

    `rows` are drawn first without a header; each `sections` entry adds a bold header row and
    its subgroups (pass `rows=()` for a fully sectioned chart).
    """
    style = chart_style(presenter, width_px)
    layout_rows = [_ForestRow(overall_label, overall, "overall")]
    layout_rows += [_ForestRow(r.label, r.rate, "subgroup") for r in rows]
    for header, section_rows in sections or ():
        layout_rows.append(_ForestRow(header, None, "header"))
        layout_rows += [_ForestRow(r.label, r.rate, "subgroup") for r in section_rows]
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
            text=[p.label for _, p in picked], customdata=[p.format() for _, p in picked],
            hovertemplate="<b>%{text}</b><br>%{customdata}<extra></extra>",
        ))

    add_points("subgroup", style.colour(0), "square", style.marker_size + 1, "Subgroups")
    add_points("overall", style.text_colour, "diamond", style.marker_size + 5, overall_label)

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
    col1_px = max(_text_px(a, size) for a, _ in count_texts) + 14
    col2_px = max(_text_px(b, size) for _, b in count_texts) + 10
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
            fig.add_annotation(name="forest-too-few", text=f"— {_short_reason(row.rate)}", showarrow=False,
                               xref="x", x=1.5, xanchor="left", yref="y", y=y, yanchor="middle",
                               font=dict(size=size, color=style.muted_colour))
    for text, shift, role in (("n/N", gap, "count-header"), ("% (95% CI)", gap + col1_px, "ci-header")):
        fig.add_annotation(name=f"forest-{role}", text=f"<b>{text}</b>", showarrow=False, xref="paper", x=1,
                           xanchor="left", xshift=shift, yref="y", y=0.75, yanchor="middle", font=dict(size=size))

    tick_text = []
    for row in layout_rows:
        if row.kind == "overall":
            tick_text.append(f"<b>{row.label}</b>")
        elif row.kind == "header":
            tick_text.append(f"<b>{row.label}</b>")
        else:
            tick_text.append(row.label)
    fig.update_yaxes(tickmode="array", tickvals=ys, ticktext=tick_text, range=[ys[-1] - 0.6, 1.25],
                     showgrid=False, zeroline=False, fixedrange=True, ticks="", automargin=True,
                     ticklabelstandoff=int(style.marker_size * 0.9))
    fig.update_xaxes(range=[0, 100], dtick=20 if style.presenter else 10, ticksuffix="", title_text=axis_title,
                     showline=True, ticks="outside", zeroline=False, fixedrange=True, showgrid=True)

    frame = _frame(style, title=title, caption=caption, bottom_px=_x_axis_block(style))
    label_px = max(_text_px(t, style.tick_size) for t in tick_text) + 16 + style.marker_size
    plot_px = (len(layout_rows) + 1.8) * style.row_px
    height = frame.margin_top(style) + plot_px + frame.margin_bottom(style)
    n = overall.denominator if isinstance(overall, ProportionEstimate) else overall.n
    return _finish(fig, style, frame, title=title, caption=caption, n=n, height=height, margin_l=label_px,
                   margin_r=gap + col1_px + col2_px + 10, legend_top=False)


# --------------------------------------------------------------------------------------- composition
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
    for key, (label, count) in zip(keys, composition.as_rows()):
        pct = 100 * count / composition.n
        text = f"{count} ({format_percent(pct)}%)"
        name = f"{label}: {text}"
        names.append(name)
        fig.add_trace(go.Bar(
            x=[pct], y=[""], orientation="h", name=name, meta={"role": "composition", "category": label,
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
    frame = _frame(style, title=title, caption=caption, bottom_px=_x_axis_block(style), legend=names)
    height = frame.margin_top(style) + style.row_px * 3.2 + frame.margin_bottom(style)
    return _finish(fig, style, frame, title=title, caption=caption, n=composition.n, height=height,
                   margin_l=20, margin_r=30)


# --------------------------------------------------------------------------------------- Kaplan–Meier
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
    gap_px = _x_axis_block(style) + style.table_size * 1.8 + 6   # x ticks + x title + "Number at risk" heading
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
        notes += [f"<i>{_wrap(e, style.annotation_size, style.nominal_width * 0.45)}</i>" for e in extra]
    frame = _frame(style, title=title, caption=caption_shown, bottom_px=6, legend=legend_names)
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
                                     fill="tonexty", fillcolor=_rgba(colour, 0.09 if multi else 0.16),
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
    number_px = max(_text_px(str(v), style.table_size) for c in curves
                    for v in (*c.at_risk_table.at_risk, *c.at_risk_table.events))
    fig.update_yaxes(row=2, col=1, range=[ys[-1] - 0.6, 0.6], tickmode="array", tickvals=ys, ticktext=table_labels,
                     showgrid=False, zeroline=False, showline=False, ticks="", fixedrange=True,
                     ticklabelstandoff=int(number_px / 2 + 8))

    label_px = max(max(_text_px(t, style.tick_size) for t in table_labels) + number_px / 2 + 22,
                   _text_px("0.8", style.tick_size) + style.axis_title_size * 1.6 + 18)
    right_px = _text_px("000", style.table_size) + 16
    fig = _finish(fig, style, frame, title=title, caption=caption, n=sum(c.n for c in curves), height=height,
                  margin_l=label_px, margin_r=right_px)
    return fig


# --------------------------------------------------------------------------------------- toxicity
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
        estimates = [(c + offsets[key], getattr(r, key), r.label) for c, r in zip(centres, table.rows)]
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
            customdata=[f"{lab}: {p.format()}" for _, p, lab in fitted],
            hovertemplate="%{customdata}<extra>" + name + "</extra>",
        ))
        texts, xs, ys = [], [], []
        for y, p, _ in estimates:
            if isinstance(p, ProportionEstimate):
                text = f"{p.count}/{p.denominator} ({p.percent()}%)"
                xs.append(100 * p.upper)
            else:
                text = f"— {_short_reason(p)}"
                xs.append(0.0)
            texts.append(text)
            labels.append(text)
            ys.append(y)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="text", text=[f"  {t}" for t in texts],
                                 textposition="middle right", cliponaxis=False, showlegend=False, hoverinfo="skip",
                                 textfont=dict(size=style.annotation_size, color=style.text_colour),
                                 meta={"role": "toxicity_labels", "arm": key}))
    fig.update_layout(barmode="overlay", legend_traceorder="normal")
    fig.update_yaxes(tickmode="array", tickvals=centres, ticktext=[r.label for r in table.rows],
                     range=[centres[-1] - 0.6, 0.6], showgrid=False, zeroline=False, fixedrange=True, ticks="")
    fig.update_xaxes(range=[0, 100], dtick=20 if style.presenter else 10, showline=True, ticks="outside",
                     title_text=f"% of patients (95% CI, {CLOPPER_PEARSON.split()[0]})", fixedrange=True)
    note = table.denominator_note
    if table.n_not_evaluable:
        note += f"; not safety-evaluable and without HSCT: {table.n_not_evaluable}"
    full_caption = f"{caption}\n{note}"
    frame = _frame(style, title=title, caption=full_caption, bottom_px=_x_axis_block(style),
                   legend=[a[1] for a in arms])
    label_px = max(_text_px(r.label, style.tick_size) for r in table.rows) + 16
    right_px = max(_text_px(t, style.annotation_size) for t in labels) + 20
    height = frame.margin_top(style) + (len(table.rows) + 0.4) * style.row_px * 2.2 + frame.margin_bottom(style)
    fig = _finish(fig, style, frame, title=title, caption=full_caption, n=n, height=height, margin_l=label_px,
                  margin_r=right_px)
    fig.layout.meta = {"caption": caption, "n": n}
    return fig


# --------------------------------------------------------------------------------------- subgroup bars
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
        customdata=[f"{r.label}: {r.rate.format()}" for _, r in fitted],  # type: ignore[union-attr]
        hovertemplate="%{customdata}<extra></extra>", meta={"role": "subgroup_bars"},
    ))
    texts, ys = [], []
    for r in rows:
        if isinstance(r.rate, ProportionEstimate):
            texts.append(f"{r.rate.count}/{r.rate.denominator}<br>{r.rate.percent()}%")
            ys.append(100 * r.rate.upper + 1.5)
        else:
            texts.append(f"—<br>{_wrap(_short_reason(r.rate), style.annotation_size, 160)}")
            ys.append(0.0)
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="text", text=texts, textposition="top center", cliponaxis=False,
                             showlegend=False, hoverinfo="skip", meta={"role": "subgroup_labels"},
                             textfont=dict(size=style.annotation_size, color=style.text_colour)))
    fig.update_xaxes(tickmode="array", tickvals=xs, ticktext=[r.label for r in rows], range=[-0.6, len(rows) - 0.4],
                     showline=True, fixedrange=True, showgrid=False, zeroline=False)
    fig.update_yaxes(range=[0, 100], dtick=20, title_text=axis_title, showline=True, ticks="outside",
                     fixedrange=True)
    frame = _frame(style, title=title, caption=caption, bottom_px=style.tick_size * 1.8 + 8)
    label_px = _text_px("100", style.tick_size) + style.axis_title_size * 1.6 + 20
    top_text_px = style.annotation_size * 2.8
    height = frame.margin_top(style) + top_text_px + style.plot_px * 0.85 + frame.margin_bottom(style)
    fig = _finish(fig, style, frame, title=title, caption=caption, n=n, height=height, margin_l=label_px,
                  margin_r=30)
    fig.update_layout(margin_t=fig.layout.margin.t + int(top_text_px))
    return fig


# --------------------------------------------------------------------------------------- swimmer
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
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT or (
        not isinstance(value, (str, bool)) and bool(pd.isna(value)))


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
            marker=dict(color=_rgba(RESPONSE_COLOURS.get(response, "#999999"), 0.55),
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
    frame = _frame(style, title=title, caption=caption, bottom_px=_x_axis_block(style))
    lane_px = style.row_px * (0.8 if style.presenter else 0.85)
    height = frame.margin_top(style) + (n + 0.6) * lane_px + frame.margin_bottom(style)
    label_px = max(_text_px(str(p), style.tick_size) for p in lane_y) + 16
    fig = _finish(fig, style, frame, title=title, caption=caption, n=n, height=height, margin_l=label_px,
                  margin_r=style.marker_size + 20, legend_top=False)
    # many marker kinds: a vertical legend beside the lanes (plotly widens the right margin for it)
    fig.update_layout(legend=dict(orientation="v", x=1.01, xanchor="left", y=1, yanchor="top",
                                  traceorder="normal", tracegroupgap=4, itemsizing="constant"))
    return fig


# --------------------------------------------------------------------------------------- cycles
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
    frame = _frame(style, title=title, caption=caption, bottom_px=_x_axis_block(style),
                   legend=[t.name for t in fig.data])
    height = frame.margin_top(style) + style.plot_px * 0.8 + frame.margin_bottom(style)
    label_px = _text_px("00", style.tick_size) + style.axis_title_size * 1.6 + 20
    return _finish(fig, style, frame, title=title, caption=caption, n=len(responders), height=height,
                   margin_l=label_px, margin_r=30)
