"""How every chart looks: the plotly template, the colour-blind-safe palette, fonts and sizes per
display context (dashboard, journal column, tumour-board presenter mode), and caption wrapping.

Widths of text are estimated from character counts: a pure module has no font metrics, so every
estimate errs wide (proportional fonts run wider than their average on capitals and digits).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace

import plotly.graph_objects as go
import plotly.io as pio

from core.text import plotly_text

PRESENTER_MIN_FONT = 18
# A tumour-board screen (1920 × 1080 or 1366 × 768) shows a whole chart without scrolling, and a
# 13.33 × 7.5 in slide (1280 × 720 px) holds it with its provenance footer.
PRESENTER_MAX_HEIGHT = 620
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
# Okabe–Ito vermillion darkened to 6.4:1 on white, so a warning line stays legible at 11 px.
WARNING_COLOUR = "#A63D00"


def rgba(hex_colour: str, alpha: float) -> str:
    """'#0072B2', 0.5 → 'rgba(0,114,178,0.5)' (a translucent fill of a palette colour)."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


# --------------------------------------------------------------------------------------- sizes
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
    max_height_px: int | None = None    # a chart's height is fitted under this where it can be (presenter)
    min_plot_px: int = 160              # ... but its plot area never shrinks below this

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
                           row_px=44, plot_px=540, nominal_width=1200, max_height_px=PRESENTER_MAX_HEIGHT,
                           min_plot_px=200)
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


# --------------------------------------------------------------------------------------- text
_TAG = re.compile(r"<[^>]+>")
CAPTION_SEPARATOR = " · "


def visible_chars(text: str) -> int:
    """How many characters of `text` a reader sees (markup tags are not counted, "&lt;" is one)."""
    return len(html.unescape(_TAG.sub("", text)))


def text_px(text: str, size: float) -> float:
    """A generous width (px) of the widest line of `text` at font `size`; tags are not counted."""
    lines = html.unescape(_TAG.sub("", text.replace("<br>", "\n"))).split("\n")
    return max((len(line) for line in lines), default=0) * size * 0.58


def wrap_caption(text: str, *, width_px: float, size: float) -> list[str]:
    """The lines `text` takes when set at font `size` (px) in `width_px`, breaking between items first.

    `text` is plain text (no markup): every "\\n" starts a new line, and " · " separates items (the
    slice in words, n, the reconstructed-data tag). A line holds as many whole items as fit; an item
    longer than a line is broken at its spaces into pieces of a line each (a single word longer than
    a line is cut), and no separator is put between pieces of one item. A line holds at most
    max(20, width_px / (0.6 · size)) characters, an estimate that errs wide so that a line stays
    within `width_px` in the usual sans-serif fonts.

    Returns the lines without markup: join them with "<br>" for plotly, or escape them for HTML.
    """
    limit = max(20, int(width_px / (size * 0.6)))
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for item in paragraph.split(CAPTION_SEPARATOR):
            for i, piece in enumerate(_pieces(item, limit)):
                joined = f"{current}{CAPTION_SEPARATOR if i == 0 else ' '}{piece}" if current else piece
                if current and len(joined) > limit:
                    lines.append(current)
                    current = piece
                else:
                    current = joined
        lines.append(current)
    return lines


def wrapped_text(text: str, *, width_px: float, size: float) -> str:
    """Plain `text` wrapped as `wrap_caption` does, each line escaped for plotly, joined by <br>."""
    return "<br>".join(plotly_text(line) for line in wrap_caption(text, width_px=width_px, size=size))


def _pieces(item: str, limit: int) -> list[str]:
    """`item` cut at spaces into pieces of at most `limit` characters (a longer word is cut itself)."""
    pieces: list[str] = []
    while len(item) > limit:
        cut = item.rfind(" ", 0, limit + 1)
        cut = cut if cut > 0 else limit
        pieces.append(item[:cut].rstrip())
        item = item[cut:].lstrip()
    pieces.append(item)
    return pieces
