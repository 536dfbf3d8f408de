"""What the tumour-board deck's PowerPoint and PDF share: its content, the slide geometry, the
chart image size, and the words on the title slide and in every footer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go

from core.export.stamp import CSS_PX_PER_INCH, ImagePreset
from core.provenance import PRODUCT_NAME, RECONSTRUCTED_TAG, Provenance

ProgressCallback = Callable[[float, str], None]

SLIDE_W_IN, SLIDE_H_IN = 40 / 3, 7.5
_DECK_CHART_W_IN, _DECK_CHART_H_IN = 9.0, 6.0        # the chart's box on a slide
_DECK_CHART_CSS_W = 1000                               # presenter fonts (18 px) land at ~12 pt on the slide
DECK_CHART_PRESET = ImagePreset("deck", "Deck chart", _DECK_CHART_CSS_W / CSS_PX_PER_INCH,
                                _DECK_CHART_CSS_W * _DECK_CHART_H_IN / _DECK_CHART_W_IN / CSS_PX_PER_INCH,
                                dpi=192, footer_size=13)
BOX_LEFT_IN, BOX_TOP_IN, BOX_W_IN, BOX_BOTTOM_IN = 0.35, 1.0, _DECK_CHART_W_IN, 0.45   # the chart's box
TALL_CHARTS = ("survival", "swimmer")    # an at-risk table / one lane per patient: keep their height
MAX_MISSES_SHOWN = 12


@dataclass(frozen=True)
class DeckChart:
    key: str
    title: str
    figure: go.Figure
    provenance: Provenance
    numbers: pd.DataFrame          # the key numbers, shown as a native table beside the image


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


def deck_chart_preset(figure: go.Figure, *, tall: bool = False) -> ImagePreset:
    """The slide box's aspect; with `tall` (one lane per patient) up to 1.6× that height."""
    if not tall:
        return DECK_CHART_PRESET
    box = DECK_CHART_PRESET.css_height or 667
    natural = int(figure.layout.height or box) + 120          # + the provenance footer
    return replace(DECK_CHART_PRESET, height_in=min(max(box, natural), int(box * 1.6)) / CSS_PX_PER_INCH)


def chart_image_job(chart: DeckChart, fmt: str) -> tuple[go.Figure, Provenance, str, ImagePreset]:
    """One chart's render job for `figure_images`, at its size on the slide."""
    return chart.figure, chart.provenance, fmt, deck_chart_preset(chart.figure, tall=chart.key in TALL_CHARTS)


def title_lines(content: DeckContent) -> list[str]:
    p = content.provenance
    lines = [f"{p.slice_text} · {p.n_text}"]
    if p.data_label:
        lines.append(f"Data: {p.data_label}")
    if p.reconstructed:
        lines.append(RECONSTRUCTED_TAG)
    if p.suppress_below is not None:
        lines.append(f"Small-cell suppression: counts below {p.suppress_below} shown as <{p.suppress_below}")
    lines.extend(content.notes)
    lines.append(f"{PRODUCT_NAME} {p.product_version} · exported {p.exported_on.isoformat()}")
    return lines


def footer_text(p: Provenance) -> str:
    parts = [f"{p.slice_text} · {p.n_text}"]
    if p.reconstructed:
        parts.append(RECONSTRUCTED_TAG)
    parts.append(f"{PRODUCT_NAME} {p.product_version} · {p.exported_on.isoformat()}")
    return " · ".join(parts)


def misses_shown(misses: pd.DataFrame) -> pd.DataFrame:
    shown = misses.head(MAX_MISSES_SHOWN)
    if len(misses) > MAX_MISSES_SHOWN:
        more = pd.DataFrame([{"ID": "…", "Figure": f"and {len(misses) - MAX_MISSES_SHOWN} more (see the "
                                                   "paper-check table)", "Published": "", "Computed": "",
                              "Status": ""}])
        shown = pd.concat([shown, more], ignore_index=True)
    return shown


def column_weights(frame: pd.DataFrame) -> list[int]:
    """Relative column widths from the longest cell (bounded, so a long label wraps)."""
    return [max(7, min(28, max([len(str(c))] + [len(str(v)) for v in frame[c]]))) for c in frame.columns]
