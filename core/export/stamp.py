"""Provenance stamped on chart images, and the physical sizes images are exported at.

`with_provenance(fig, provenance, stamp=…)` returns a copy of the figure for export; the caller's
figure is never changed. What the image itself shows of the provenance (`STAMPS`):

* "block" — the full record as a footer block under the chart's own caption (bottom margin and
  height enlarged, nothing else moved);
* "line" — one line (`Provenance.compact_line`) in place of the caption's slice line, so a journal
  image is the figure and a caption;
* "none" — the figure alone: the caption's slice line is removed (the chart's own notes, such as
  denominators or medians, stay) and the record travels in the file's metadata and a side file
  (`core.export.metadata`).

PNG, SVG and PDF all render that copy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import plotly.graph_objects as go

from core.charts.style import wrap_caption
from core.provenance import RECONSTRUCTED_TAG, Provenance
from core.text import plotly_text

CSS_PX_PER_INCH = 96            # the browser's px: 1/96 in, so a 12 px font prints at 9 pt
DEFAULT_FOOTER_SIZE = 11
FOOTER_COLOUR = "#333333"
LINE_HEIGHT = 1.45
_TAG = re.compile(r"</?(?:b|i|em|br|sup|sub|span|a|s|u)(?:\s[^<>]*)?/?>", re.IGNORECASE)

Stamp = Literal["block", "line", "none"]
STAMPS: dict[str, str] = {
    "block": "Full provenance under the chart",
    "line": "One provenance line under the chart",
    "none": "Figure only (provenance in the file's metadata and a .txt)",
}


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


def _plain(line: str) -> str:
    return " ".join(_TAG.sub("", line).split())


def _wrapped_run(lines: list[str], caption: str, size: float) -> set[int]:
    """Indices of the run of `lines` that is `caption` as wrap_caption laid it out at some width.

    Builders wrap their caption paragraph by paragraph for their own width, so the slice's line(s)
    are found by trying each line length wrap_caption can produce; empty when they are not there.
    """
    plain = [_plain(line) for line in lines]
    seen: set[tuple[str, ...]] = set()
    for limit in range(20, 20 + len(caption) + 2):
        wrapped = tuple(_plain(line) for line in wrap_caption(caption, width_px=(limit + 0.5) * size * 0.6, size=size))
        if wrapped in seen:
            continue
        seen.add(wrapped)
        for start in range(len(plain) - len(wrapped) + 1):
            if tuple(plain[start:start + len(wrapped)]) == wrapped:
                return set(range(start, start + len(wrapped)))
    return set()


def _drop_caption_lines(out: go.Figure, drop: Callable[[list[str], float], set[int]]) -> go.Figure:
    """Remove caption lines (indices chosen by `drop`, and empty lines) and the room they took."""
    caption = _caption_annotation(out)
    if caption is None or caption.text is None:
        return out
    lines = caption.text.split("<br>")
    size = float(caption.font.size or DEFAULT_FOOTER_SIZE)
    dropped = drop(lines, size)
    kept = [line for i, line in enumerate(lines) if i not in dropped and _plain(line)]
    removed = len(lines) - len(kept)
    if not removed:
        return out
    shrink = removed * size * LINE_HEIGHT + (0 if kept else size * 0.8)
    if kept:
        caption.text = "<br>".join(kept)
    else:
        out.layout.annotations = [a for a in out.layout.annotations if a.name != "caption"]
    margin_b = float(out.layout.margin.b if out.layout.margin.b is not None else 80)
    out.update_layout(margin_b=int(max(0.0, margin_b - shrink)))
    if out.layout.height is not None:
        out.update_layout(height=int(max(1.0, out.layout.height - shrink)))
    return out


def without_slice_caption(fig: go.Figure, caption: str | None = None) -> go.Figure:
    """A copy of `fig` whose caption no longer states the slice (`caption`, default the figure's
    `layout.meta["caption"]`); the chart's own notes stay. The plot keeps its size."""
    out = go.Figure(fig)
    if caption is None:
        meta = out.layout.meta
        caption = str(meta.get("caption", "")) if isinstance(meta, dict) else ""
    slice_caption = caption
    return _drop_caption_lines(out, lambda lines, size: _wrapped_run(lines, slice_caption, size)
                               if slice_caption else set())


def without_caption(fig: go.Figure) -> go.Figure:
    """A copy of `fig` with no caption at all (a slide states the slice in its footer)."""
    return _drop_caption_lines(go.Figure(fig), lambda lines, size: set(range(len(lines))))


def with_provenance(fig: go.Figure, provenance: Provenance, *, width_px: float | None = None,
                    font_size: float | None = None, stamp: Stamp = "block") -> go.Figure:
    """A copy of `fig` with the provenance in it as `stamp` says (see the module docstring); `fig`
    is not changed. Every stamp records the provenance in `layout.meta["provenance"]`.

    "block": the footer is wrapped for `width_px` (the export width; default the figure's width,
    else 720); the bottom margin and the height grow by the footer's height so the plot keeps its
    size. The chart's own caption is re-wrapped for that width too.
    """
    if stamp not in STAMPS:
        raise ValueError(f"stamp must be one of {', '.join(STAMPS)}, not {stamp!r}")
    out = go.Figure(fig) if stamp == "block" else without_slice_caption(fig)
    width = float(width_px or out.layout.width or 720)
    caption = _caption_annotation(out)
    size = float(font_size or (caption.font.size if caption is not None and caption.font.size else None)
                 or DEFAULT_FOOTER_SIZE)
    margin_b = float(out.layout.margin.b if out.layout.margin.b is not None else 80)
    margin_l = float(out.layout.margin.l if out.layout.margin.l is not None else 80)
    height = out.layout.height
    text_px = max(160.0, width - margin_l - 12)   # caption and footer start at the plot's left edge

    grow = 0.0
    lines: list[str] = []
    if stamp == "block":
        if caption is not None and caption.text:
            old_lines = caption.text.split("<br>")
            caption_size = float(caption.font.size or size)
            new_lines = wrap_caption(" · ".join(_TAG.sub("", line) for line in old_lines), width_px=text_px,
                                     size=caption_size)
            caption.text = "<br>".join(new_lines)
            grow += (len(new_lines) - len(old_lines)) * caption_size * LINE_HEIGHT
        if provenance.reconstructed:
            lines.append(f"<b>{plotly_text(RECONSTRUCTED_TAG)}</b>")
        items = [f"{k}: {v}" for k, v in provenance.items() if not (k == "Data" and v == RECONSTRUCTED_TAG)]
        lines.extend(plotly_text(line) for line in wrap_caption(" · ".join(items), width_px=text_px, size=size))
    elif stamp == "line":
        lines.extend(plotly_text(line) for line in wrap_caption(provenance.compact_line(), width_px=text_px,
                                                                size=size))
    if lines:
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
