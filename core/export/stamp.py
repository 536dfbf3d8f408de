"""Provenance stamped on chart images, and the physical sizes images are exported at.

`with_provenance(fig, provenance)` returns a copy of the figure with a footer annotation block
under the chart's own caption (bottom margin and height enlarged, nothing else moved); the
caller's figure is never changed. PNG, SVG and PDF all render that copy.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from core.charts.style import wrap_caption
from core.provenance import RECONSTRUCTED_TAG, Provenance
from core.text import plotly_text

CSS_PX_PER_INCH = 96            # the browser's px: 1/96 in, so a 12 px font prints at 9 pt
DEFAULT_FOOTER_SIZE = 11
FOOTER_COLOUR = "#333333"
LINE_HEIGHT = 1.45
_TAG = re.compile(r"</?(?:b|i|em|br|sup|sub|span|a|s|u)(?:\s[^<>]*)?/?>", re.IGNORECASE)


@dataclass(frozen=True)
class ImagePreset:
    """A physical size: width (and height, or the figure's own) in inches at `dpi`.

    The figure is laid out at `width_in × 96` CSS px and rendered at scale `dpi / 96`, so fonts
    keep their physical size (12 px = 9 pt) and the PNG is `width_in × dpi` pixels wide.
    """

    key: str
    label: str
    width_in: float
    height_in: float | None = None    # None: the figure's own height (plus the provenance footer)
    dpi: int = 300
    footer_size: float | None = None  # provenance footer font (px); None: the chart's caption size

    def __post_init__(self) -> None:
        if not 1 <= self.width_in <= 60 or (self.height_in is not None and not 1 <= self.height_in <= 60):
            raise ValueError(f"image size must be between 1 and 60 inches, not {self.width_in} × {self.height_in}")
        if not 72 <= self.dpi <= 1200:
            raise ValueError(f"dpi must be between 72 and 1200, not {self.dpi}")

    @property
    def css_width(self) -> int:
        return round(self.width_in * CSS_PX_PER_INCH)

    @property
    def css_height(self) -> int | None:
        return None if self.height_in is None else round(self.height_in * CSS_PX_PER_INCH)

    @property
    def scale(self) -> float:
        return self.dpi / CSS_PX_PER_INCH

    def pixel_size(self, css_height: int | None = None) -> tuple[int, int]:
        height = self.css_height or css_height or 0
        return round(self.css_width * self.scale), round(height * self.scale)


PRESETS: dict[str, ImagePreset] = {
    "slide": ImagePreset("slide", "Slide 13.33 × 7.5 in", 40 / 3, 7.5),
    "journal_single": ImagePreset("journal_single", "Journal single column 3.5 in", 3.5),
    "journal_double": ImagePreset("journal_double", "Journal double column 7 in", 7.0),
}


def _caption_annotation(fig: go.Figure) -> Any:
    for annotation in fig.layout.annotations:
        if annotation.name == "caption":
            return annotation
    return None


def with_provenance(fig: go.Figure, provenance: Provenance, *, width_px: float | None = None,
                    font_size: float | None = None) -> go.Figure:
    """A copy of `fig` with the provenance as a footer under its caption; `fig` is not changed.

    The footer is wrapped for `width_px` (the export width; default the figure's width, else 720);
    the bottom margin and the height grow by the footer's height so the plot keeps its size. The
    chart's own caption is re-wrapped for that width too.
    """
    out = go.Figure(fig)
    width = float(width_px or out.layout.width or 720)
    caption = _caption_annotation(out)
    size = float(font_size or (caption.font.size if caption is not None and caption.font.size else None)
                 or DEFAULT_FOOTER_SIZE)
    margin_b = float(out.layout.margin.b if out.layout.margin.b is not None else 80)
    margin_l = float(out.layout.margin.l if out.layout.margin.l is not None else 80)
    height = out.layout.height
    text_px = max(160.0, width - margin_l - 12)   # caption and footer start at the plot's left edge

    grow = 0.0
    if caption is not None and caption.text:
        old_lines = caption.text.split("<br>")
        caption_size = float(caption.font.size or size)
        new_lines = wrap_caption(" · ".join(_TAG.sub("", line) for line in old_lines), width_px=text_px, size=caption_size)
        caption.text = "<br>".join(new_lines)
        grow += (len(new_lines) - len(old_lines)) * caption_size * LINE_HEIGHT

    lines: list[str] = []
    if provenance.reconstructed:
        lines.append(f"<b>{plotly_text(RECONSTRUCTED_TAG)}</b>")
    items = [f"{k}: {v}" for k, v in provenance.items() if not (k == "Data" and v == RECONSTRUCTED_TAG)]
    lines.extend(plotly_text(line) for line in wrap_caption(" · ".join(items), width_px=text_px, size=size))
    footer_px = len(lines) * size * LINE_HEIGHT + size * 0.8

    out.add_annotation(
        name="provenance", text="<br>".join(lines), showarrow=False, align="left",
        xref="paper", x=0, xanchor="left", yref="paper", y=0, yanchor="top",
        yshift=-(margin_b + grow) + size * 0.2, font=dict(size=size, color=FOOTER_COLOUR),
    )
    out.update_layout(margin_b=int(math.ceil(margin_b + grow + footer_px)))
    if height is not None:
        out.update_layout(height=int(math.ceil(height + grow + footer_px)))
    meta = dict(out.layout.meta) if isinstance(out.layout.meta, dict) else {}
    meta["provenance"] = dict(provenance.items())
    out.update_layout(meta=meta)
    return out
