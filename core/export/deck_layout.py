"""What the tumour-board deck's PowerPoint and PDF share: its content, the slide geometry, how text
and tables are fitted to a box, and how a chart is laid out for its box on a slide.

Type on a slide is never below 14 pt (BODY_PT) except the one-line footer (FOOTER_PT). Charts are
laid out by their builders in presenter mode (no font below 18 CSS px) at DECK_PX_PER_IN CSS px
per inch of slide, so their smallest type lands at 14.4 pt once placed; the image is rendered at
exactly its box's size and placed without scaling. Text is set in Arial in both files, and its
width is estimated from Arial's character widths (erring wide), so text wrapped here fits its box.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go

from core.export.stamp import CSS_PX_PER_INCH, ImagePreset, without_caption
from core.provenance import Provenance

ProgressCallback = Callable[[float, str], None]

SLIDE_W_IN, SLIDE_H_IN = 40 / 3, 7.5
MARGIN_IN = 0.45
CONTENT_W_IN = SLIDE_W_IN - 2 * MARGIN_IN
TITLE_TOP_IN, TITLE_H_IN, TITLE_PT = 0.3, 0.6, 28
CONTENT_TOP_IN, CONTENT_BOTTOM_IN = 1.05, 6.95
FOOTER_TOP_IN, FOOTER_H_IN, FOOTER_PT = 7.07, 0.3, 10.5
GAP_IN = 0.3                       # between a chart and the table beside it
BODY_PT = 14
FONT = "Arial"
LINE_SPACING = 1.25
TABLE_LINE_SPACING = 1.32         # table cells set their lines a little further apart
CELL_MARGIN_X_IN, CELL_MARGIN_Y_IN = 0.1, 0.06
TABLE_MIN_W_IN, TABLE_MAX_W_IN = 2.6, 3.6
DECK_PX_PER_IN = 90                # 18 CSS px (the presenter minimum) = 14.4 pt on the slide
DECK_DPI = 192                     # image pixels per CSS px × 96: 180 pixels per inch of slide
MAX_SWIMMER_LANES = 16             # patients per swimmer slide, so a lane keeps its label's height
RED = "9C0006"
INK = "000000"
MUTED = "333333"


@dataclass(frozen=True)
class DeckChart:
    key: str
    title: str
    figure: go.Figure
    provenance: Provenance
    numbers: pd.DataFrame          # the key numbers, a native table beside the image (or on their own slide)
    numbers_slide: bool = False    # the numbers get a slide of their own after the chart's


@dataclass(frozen=True)
class DeckContent:
    title: str
    provenance: Provenance         # the slice's
    charts: tuple[DeckChart, ...]
    notes: tuple[str, ...]         # e.g. why a chart was left out
    paper_summary: str | None      # "n exact of n counted"
    paper_misses: pd.DataFrame | None


@dataclass(frozen=True)
class DeckFiles:
    pptx: bytes
    pdf: bytes | None              # None when static export is unavailable
    pdf_message: str = ""


def report_progress(callback: ProgressCallback | None, fraction: float, message: str) -> None:
    if callback is not None:
        callback(max(0.0, min(1.0, fraction)), message)


# ---------------------------------------------------------------------------------------- boxes
@dataclass(frozen=True)
class Box:
    """A rectangle on a slide, in inches from its top-left corner."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def overlaps(self, other: Box) -> bool:
        return (self.left < other.right - 1e-6 and other.left < self.right - 1e-6
                and self.top < other.bottom - 1e-6 and other.top < self.bottom - 1e-6)


TITLE_BOX = Box(MARGIN_IN, TITLE_TOP_IN, CONTENT_W_IN, TITLE_H_IN)
FOOTER_BOX = Box(MARGIN_IN, FOOTER_TOP_IN, CONTENT_W_IN, FOOTER_H_IN)
CONTENT_BOX = Box(MARGIN_IN, CONTENT_TOP_IN, CONTENT_W_IN, CONTENT_BOTTOM_IN - CONTENT_TOP_IN)


# ---------------------------------------------------------------------------------------- text
# Arial's advance widths in ems (Liberation Sans has the same), bold about 6% wider; anything not
# listed counts as 0.6 em. With 3% to spare, text measured here fits its box in either file.
_EM: dict[str, float] = {
    **dict(zip("abcdefghijklmnopqrstuvwxyz", (.556, .556, .5, .556, .556, .278, .556, .556, .222, .222, .5, .222,
                                             .833, .556, .556, .556, .556, .333, .5, .278, .556, .5, .722, .5, .5,
                                             .5))),
    **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (.667, .667, .722, .722, .667, .611, .778, .722, .278, .5, .667, .556,
                                             .833, .722, .778, .667, .778, .722, .667, .611, .722, .667, .944, .667,
                                             .667, .611))),
    **dict.fromkeys("0123456789", .556), **dict.fromkeys(" .,:;!|/·", .278), **dict.fromkeys("-()[]", .333),
    "'": .191, '"': .355, "%": .889, "—": 1.0, "–": .556, "…": 1.0, "&": .667, "≥": .549, "≤": .549,
    **dict.fromkeys("+<>=±", .584), "²": .333, "°": .4,
}


def text_width_in(text: str, pt: float, bold: bool = False) -> float:
    """The width of one line of `text` set in Arial at `pt` (an estimate that errs a little wide)."""
    return sum(_EM.get(ch, 0.6) for ch in text) * pt / 72 * (1.06 if bold else 1.0) * 1.03


def line_height_in(pt: float) -> float:
    return pt * LINE_SPACING / 72


def wrap_text(text: str, width_in: float, pt: float, bold: bool = False) -> list[str]:
    """`text` broken at spaces into lines that fit `width_in` (a word longer than a line is cut)."""
    def fits(line: str) -> bool:
        return text_width_in(line, pt, bold) <= width_in

    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            while not fits(word) and len(word) > 1:
                cut = max(1, max(i for i in range(1, len(word) + 1) if fits(word[:i]) or i == 1))
                if current:
                    lines.append(current)
                    current = ""
                lines.append(word[:cut])
                word = word[cut:]
            joined = f"{current} {word}" if current else word
            if current and not fits(joined):
                lines.append(current)
                current = word
            else:
                current = joined
        lines.append(current)
    return lines


def fit_line(text: str, width_in: float, pt: float, *, shorten: str) -> str:
    """`text` on one line of `width_in`: the part `shorten` is cut with "…" when it does not fit."""
    if text_width_in(text, pt) <= width_in or shorten not in text:
        return text
    for keep in range(len(shorten) - 1, 7, -1):
        shorter = text.replace(shorten, shorten[:keep].rstrip(" ·") + "…", 1)
        if text_width_in(shorter, pt) <= width_in:
            return shorter
    return text.replace(shorten, shorten[:8].rstrip(" ·") + "…", 1)


# ---------------------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class TableLayout:
    """A table fitted to a box: cell text wrapped into lines, column widths and row heights (in)."""

    header: tuple[tuple[str, ...], ...]           # per column, its lines
    rows: tuple[tuple[tuple[str, ...], ...], ...]
    col_widths: tuple[float, ...]
    row_heights: tuple[float, ...]                # header first
    font_pt: float
    left: float
    top: float
    hidden_rows: int = 0                          # rows left out for want of room

    @property
    def box(self) -> Box:
        return Box(self.left, self.top, sum(self.col_widths), sum(self.row_heights))


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def _column_widths(texts: list[list[str]], width: float, pt: float) -> list[float]:
    """Natural widths when they fit; else every column at least its longest word, the rest shared."""
    pad = 2 * CELL_MARGIN_X_IN
    natural = [max(text_width_in(t, pt, True) for t in column) + pad for column in texts]
    minimum = [max([text_width_in(w, pt, True) for t in column for w in t.split()] + [0.1]) + pad
               for column in texts]
    if sum(natural) <= width:
        return [n * width / sum(natural) for n in natural]
    if sum(minimum) >= width:
        return [m * width / sum(minimum) for m in minimum]
    spare = width - sum(minimum)
    extra = [n - m for n, m in zip(natural, minimum)]
    return [m + spare * e / sum(extra) for m, e in zip(minimum, extra)]


def natural_table_width(frame: pd.DataFrame, pt: float = BODY_PT) -> float:
    """The width a table would take unwrapped, between TABLE_MIN_W_IN and TABLE_MAX_W_IN."""
    texts = [[str(c)] + [_cell_text(v) for v in frame[c]] for c in frame.columns]
    width = sum(max(text_width_in(t, pt, True) for t in column) + 2 * CELL_MARGIN_X_IN for column in texts)
    return max(TABLE_MIN_W_IN, min(TABLE_MAX_W_IN, width))


def table_layout(frame: pd.DataFrame, box: Box, *, pt: float = BODY_PT,
                 more: str = "… and {n} more") -> TableLayout:
    """`frame` fitted to `box`'s width, with as many rows as its height holds (the last one then says
    how many more there are)."""
    header = [str(c) for c in frame.columns]
    body = [[_cell_text(v) for v in row] for row in frame.itertuples(index=False)]
    widths = _column_widths([[h] + [r[i] for r in body] for i, h in enumerate(header)], box.width, pt)

    def wrapped(cells: list[str], bold: bool) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(wrap_text(c, w - 2 * CELL_MARGIN_X_IN, pt, bold)) for c, w in zip(cells, widths))

    def height(cells: tuple[tuple[str, ...], ...]) -> float:
        return max(len(lines) for lines in cells) * pt * TABLE_LINE_SPACING / 72 + 2 * CELL_MARGIN_Y_IN

    head = wrapped(header, True)
    rows = [wrapped(r, False) for r in body]
    heights = [height(head)] + [height(r) for r in rows]
    shown = len(rows)
    while shown and sum(heights[:shown + 1]) > box.height:
        shown -= 1
    hidden = len(rows) - shown
    if hidden:
        widest = widths.index(max(widths))
        while True:
            cells = [""] * len(header)
            cells[widest] = more.format(n=hidden)
            note = wrapped(cells, False)
            if shown == 0 or sum(heights[:shown + 1]) + height(note) <= box.height:
                break
            shown, hidden = shown - 1, hidden + 1
        rows, heights = rows[:shown] + [note], heights[:shown + 1] + [height(note)]
    return TableLayout(header=head, rows=tuple(rows), col_widths=tuple(widths), row_heights=tuple(heights),
                       font_pt=pt, left=box.left, top=box.top, hidden_rows=hidden)


# ---------------------------------------------------------------------------------------- charts
def has_numbers_beside(chart: DeckChart) -> bool:
    return not chart.numbers_slide and not chart.numbers.empty


def chart_box(numbers: pd.DataFrame | None) -> Box:
    """The chart's box: the whole content area, or its left part when `numbers` sit beside it."""
    if numbers is None or numbers.empty:
        return CONTENT_BOX
    return replace(CONTENT_BOX, width=CONTENT_W_IN - GAP_IN - natural_table_width(numbers))


def numbers_box(chart_area: Box) -> Box:
    """The box right of a chart, for its numbers."""
    left = chart_area.right + GAP_IN
    return Box(left, CONTENT_TOP_IN, MARGIN_IN + CONTENT_W_IN - left, CONTENT_BOX.height)


def chart_width_px(numbers: pd.DataFrame | None) -> int:
    """The CSS width a builder lays the chart out for (its box at DECK_PX_PER_IN)."""
    return round(chart_box(numbers).width * DECK_PX_PER_IN)


def chart_preset(box: Box) -> ImagePreset:
    """An image exactly `box`'s size on the slide, laid out at DECK_PX_PER_IN."""
    scale = DECK_PX_PER_IN / CSS_PX_PER_INCH
    return ImagePreset("deck", "Deck chart", box.width * scale, box.height * scale, dpi=DECK_DPI, footer_size=None)


def deck_chart_preset(figure: go.Figure, *, tall: bool = False) -> ImagePreset:
    """The image size of a chart across a slide's content area. (The deck sizes each chart to its
    own box, `chart_image_job`; `figure` and `tall` are kept for callers of the earlier layout.)"""
    return chart_preset(chart_box(None))


def fit_to_box(fig: go.Figure, box: Box) -> go.Figure:
    """A copy of `fig` for its box: no caption (the slide's footer states the slice) and the box's
    height. When the figure stacks plots (a Kaplan–Meier curve over its number-at-risk table) the
    rows below keep their pixel height and the top plot takes the difference."""
    out = without_caption(fig)
    width_px, height_px = box.width * DECK_PX_PER_IN, box.height * DECK_PX_PER_IN
    top = float(out.layout.margin.t or 0)
    bottom = float(out.layout.margin.b or 0)
    old_area = float(out.layout.height or height_px) - top - bottom
    new_area = height_px - top - bottom
    axes = [name for name in out.layout.to_plotly_json() if name.startswith("yaxis")]
    if len(axes) > 1 and old_area > 0 and new_area > 0:
        ratio = old_area / new_area
        lowest_top_row = min((out.layout[name].domain or (0, 1))[0] for name in axes
                             if (out.layout[name].domain or (0, 1))[1] >= 1)
        if lowest_top_row * ratio < 0.7:          # else the plot would vanish: scale every row instead
            for name in axes:
                low, high = out.layout[name].domain or (0, 1)
                out.layout[name].domain = [low * ratio, high * ratio if high < 1 else 1]
    out.update_layout(width=round(width_px), height=round(height_px))
    return out


def chart_image_job(chart: DeckChart, fmt: str) -> tuple[go.Figure, Provenance, str, ImagePreset]:
    """One chart's render job for `figure_images(..., stamp="none")`, at its box's size."""
    box = chart_box(chart.numbers if has_numbers_beside(chart) else None)
    return fit_to_box(chart.figure, box), chart.provenance, fmt, chart_preset(box)
