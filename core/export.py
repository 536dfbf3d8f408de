"""Exported files that say which patients they show: PNG/SVG/PDF charts, CSV/XLSX tables, slice
data in the import format, and the tumour-board deck (PPTX and PDF).

Provenance (core.provenance.Provenance) travels inside every file:

* **Images** — `with_provenance(fig, provenance)` returns a copy of the figure with a footer
  annotation block under the chart's own caption (bottom margin and height enlarged, nothing
  else moved); the caller's figure is never changed. PNG, SVG and PDF all render that copy.
* **Table CSV** — comment lines at the top, one per item, `# Key: value`, then the header row and
  the data. Chosen over a side file because a CSV travels alone (e-mail attachments); a reader
  skips them with `pandas.read_csv(path, comment=None, skiprows=<number of # lines>)` or sees them
  as the first rows in a spreadsheet. UTF-8 with a byte-order mark, so Excel reads "≥" and "—".
* **Table XLSX** — a header block (bold keys, values beside them) above the table on the same
  sheet; the workbook's document properties carry the same lines.
* **Slice data** (the slice's `patients` and `events` rows, the contract's columns) must load again
  through the importer, which expects the header in the first row: the CSV route is a ZIP with
  `patients.csv`, `events.csv` and a side file `PROVENANCE.txt`; the XLSX has the sheets
  `patients`, `events` and `readme` (a sheet the importer ignores) holding the provenance.

Spreadsheet safety: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is
prefixed with a single quote `'` so no spreadsheet runs it as a formula. Numbers stored as numbers
(and text that is exactly a plain number, like "-1.5") are left as they are.

Small-cell suppression (`Provenance.suppress_below`, default threshold 5 when on): in exported
tables and the deck's tables, patient counts from 1 to threshold − 1 are printed as "<5"; in a row
where a count was suppressed, the percentage and CI cells are blanked too, so the count cannot be
recomputed from them. It is primary suppression only (a small count may still follow from a total
minus the others). Zero stays 0. Patient-level exports (listing, slice data) are refused while
suppression is on (`RowLevelExportBlocked`), and the deck leaves out the swimmer plot; the deck's
chart images get the same text suppression (`suppress_figure_counts`).

Static image export (kaleido 1.x) drives a headless Chrome/Chromium. How the browser is found, in
order: `$BROWSER_PATH` if set (honoured or reported as missing, never silently replaced); else
choreographer's search — a Chrome downloaded by `kaleido_get_chrome`, then `chrome`,
`google-chrome`, `chromium`, `chromium-browser` … on `$PATH`, then the usual install paths
(`/usr/bin/chromium` on Debian). The renderer (one browser, one tab) is started on the first
image export and reused for the life of the process; renders from several sessions are queued
onto its event loop, so they are thread-safe. Without a browser `export_available()` is falsy
with a message saying how to install one, image functions raise `StaticExportUnavailable`, and
everything else (CSV, XLSX, PPTX tables) keeps working.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import datetime as dt
import io
import math
import os
import re
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.provenance import (
    DEFAULT_SUPPRESSION_THRESHOLD,
    PRODUCT_NAME,
    RECONSTRUCTED_TAG,
    Provenance,
    for_listing,
    for_proportion,
    for_survival,
    for_toxicity,
)

__all__ = [
    "DEFAULT_SUPPRESSION_THRESHOLD", "PRESETS", "ExportStatus", "ImagePreset", "RowLevelExportBlocked",
    "StaticExportUnavailable", "ExportRenderError", "DeckContent", "DeckFiles", "build_deck",
    "deck_content", "deck_pdf", "deck_pptx", "export_available", "figure_image", "find_browser",
    "neutralise_formulas", "slice_data_xlsx", "slice_data_zip", "start_renderer", "suppress_figure_counts",
    "suppress_small_counts", "table_csv", "table_xlsx", "with_provenance",
]

ProgressCallback = Callable[[float, str], None]

BROWSER_ENV = "BROWSER_PATH"
INSTALL_HINT = ("Install Chromium on the server (Debian/Ubuntu: `apt-get install chromium`), or set "
                "$BROWSER_PATH to a Chrome/Chromium executable, then restart the app. CSV and XLSX downloads "
                "work without it.")
START_TIMEOUT_S = 60.0
RENDER_TIMEOUT_S = 60.0
RENDER_TABS = 1
RELOAD_EVERY = 25               # renders between page reloads of the renderer's tab (kaleido reloads after each)
CSS_PX_PER_INCH = 96            # the browser's px: 1/96 in, so a 12 px font prints at 9 pt


# =============================================================================================
# Errors and availability
# =============================================================================================
class StaticExportUnavailable(RuntimeError):
    """No browser for static image export; the message says how to install one."""

    def __init__(self, message: str, *, hint: str = INSTALL_HINT) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ExportRenderError(RuntimeError):
    """The browser was there but a figure could not be rendered (timeout, crash)."""


class RowLevelExportBlocked(ValueError):
    """Patient-level rows cannot be exported while small-cell suppression is on."""


@dataclass(frozen=True)
class ExportStatus:
    """Whether static image export can run; falsy when it cannot, with the reason and the fix."""

    available: bool
    message: str
    browser: str | None = None

    def __bool__(self) -> bool:
        return self.available


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_browser() -> str | None:
    """The Chrome/Chromium static export will drive, or None (see the module docstring for the order)."""
    explicit = os.environ.get(BROWSER_ENV, "").strip()
    if explicit:
        return explicit if _is_executable(explicit) else None
    try:
        from choreographer.browsers.chromium import Chromium
        found = Chromium.find_browser(skip_local=False)
    except Exception:  # the search is best effort; no browser is the answer when it fails
        return None
    return found if found and _is_executable(str(found)) else None


def export_available() -> ExportStatus:
    """Can charts be exported as images here? Falsy with a how-to-install message when not."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return ExportStatus(False, "Static image export needs the Python package kaleido (pip install "
                                   "kaleido==1.5.0, see requirements.txt).")
    explicit = os.environ.get(BROWSER_ENV, "").strip()
    browser = find_browser()
    if browser is None:
        where = (f"${BROWSER_ENV} points to {explicit!r}, which is not an executable file."
                 if explicit else "No Chrome or Chromium was found on this server.")
        return ExportStatus(False, f"Chart images (PNG, SVG, PDF) cannot be made: {where} {INSTALL_HINT}")
    return ExportStatus(True, f"Static export uses {browser}.", browser)


# =============================================================================================
# The renderer: one browser per process, started once, reused
# =============================================================================================
class _Renderer:
    """A kaleido browser on its own event-loop thread; renders are queued onto that loop.

    kaleido's own `start_sync_server` hands results back through one shared queue (not safe when
    two Streamlit sessions export at once) and hangs if the browser fails to start; running our
    own loop gives per-call futures, timeouts and a start error we can report.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self.browser: str | None = None

    @property
    def running(self) -> bool:
        return self._kaleido is not None

    def start(self) -> None:
        with self._lock:
            if self._kaleido is not None:
                return
            status = export_available()
            if not status:
                raise StaticExportUnavailable(status.message, hint="")
            import kaleido

            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="static-export", daemon=True)
            thread.start()

            async def open_browser() -> Any:
                k = _kaleido_class()(n=RENDER_TABS, timeout=RENDER_TIMEOUT_S, path=status.browser, mathjax=False)
                await k.open()
                return k

            try:
                k = asyncio.run_coroutine_threadsafe(open_browser(), loop).result(START_TIMEOUT_S)
            except Exception as exc:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(5)
                raise StaticExportUnavailable(
                    f"The browser {status.browser} could not be started for image export "
                    f"({type(exc).__name__}: {exc}).") from exc
            self._loop, self._thread, self._kaleido, self.browser = loop, thread, k, status.browser
            atexit.register(self.stop)

    def stop(self) -> None:
        with self._lock:
            k, loop, thread = self._kaleido, self._loop, self._thread
            self._kaleido = self._loop = self._thread = None
        if k is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(k.close(), loop).result(15)
        except Exception:  # closing a dead browser: nothing more to do
            pass
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(5)

    def render_many(self, jobs: Sequence[tuple[dict, dict]]) -> list[bytes]:
        """[(figure dict, opts)] → image bytes, in order (queued on the browser's tabs)."""
        self.start()
        k, loop = self._kaleido, self._loop
        assert k is not None and loop is not None

        async def run() -> list[bytes]:
            return list(await asyncio.gather(*(k.calc_fig(fig, opts=opts) for fig, opts in jobs)))

        future = asyncio.run_coroutine_threadsafe(run(), loop)
        try:
            return future.result(RENDER_TIMEOUT_S * max(1, len(jobs)) + 5)
        except Exception as exc:
            future.cancel()
            self.stop()   # a browser in an unknown state is restarted on the next export
            raise ExportRenderError(f"The figure could not be rendered ({type(exc).__name__}: {exc}). "
                                    "Try again; if it persists, restart the app.") from exc


def _kaleido_class() -> type:
    """kaleido.Kaleido, reloading its tab every RELOAD_EVERY renders instead of after each one.

    kaleido 1.5 reloads the page after every render (about 0.2–0.5 s, a third of a warm export);
    the reload only resets the page, so doing it now and then keeps memory bounded at a fraction
    of the cost. Falls back to kaleido's own behaviour if its internals change.
    """
    import kaleido

    base = kaleido.Kaleido
    if not hasattr(base, "_return_kaleido_tab"):
        return base

    class ReusingKaleido(base):  # type: ignore[misc, valid-type]
        _renders = 0

        async def _return_kaleido_tab(self, tab: Any) -> None:
            self._renders += 1
            if self._renders % RELOAD_EVERY == 0:
                await super()._return_kaleido_tab(tab)
            else:
                await self.tabs_ready.put(tab)

    return ReusingKaleido


_RENDERER = _Renderer()


def start_renderer() -> ExportStatus:
    """Start the browser now (e.g. at app start, in the background) so the first export is fast."""
    status = export_available()
    if status:
        _RENDERER.start()
    return status


def stop_renderer() -> None:
    _RENDERER.stop()


def _require_export() -> None:
    status = export_available()
    if not status:
        raise StaticExportUnavailable(status.message, hint="")


# =============================================================================================
# Image presets and provenance footers
# =============================================================================================
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

    def with_dpi(self, dpi: int) -> ImagePreset:
        return replace(self, dpi=int(dpi))


PRESETS: dict[str, ImagePreset] = {
    "slide": ImagePreset("slide", "Slide 13.33 × 7.5 in", 40 / 3, 7.5),
    "journal_single": ImagePreset("journal_single", "Journal single column 3.5 in", 3.5),
    "journal_double": ImagePreset("journal_double", "Journal double column 7 in", 7.0),
}
IMAGE_FORMATS = ("png", "svg", "pdf")
MIME_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf",
              "csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "zip": "application/zip",
              "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}

_TAG = re.compile(r"</?(?:b|i|em|br|sup|sub|span|a|s|u)(?:\s[^<>]*)?/?>", re.IGNORECASE)
DEFAULT_FOOTER_SIZE = 11
FOOTER_COLOUR = "#333333"
LINE_HEIGHT = 1.45


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chars_per_line(width_px: float, size: float) -> int:
    return max(24, int(width_px / (size * 0.56)))


def _wrap_items(items: Sequence[str], width_px: float, size: float) -> list[str]:
    """Join items with " · ", breaking between items (and inside an item only at spaces)."""
    limit = _chars_per_line(width_px, size)
    lines: list[str] = []
    current = ""
    for item in items:
        words = item.split(" ")
        pieces: list[str] = []
        piece = ""
        for word in words:
            candidate = f"{piece} {word}" if piece else word
            if piece and len(candidate) > limit:
                pieces.append(piece)
                piece = word
            else:
                piece = candidate
        pieces.append(piece)
        for i, p in enumerate(pieces):
            candidate = p if not current else f"{current} · {p}" if i == 0 else f"{current} {p}"
            if current and len(candidate) > limit:
                lines.append(current)
                current = p
            else:
                current = candidate
    if current:
        lines.append(current)
    return lines


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
        new_lines = _wrap_items([_TAG.sub("", line) for line in old_lines], text_px, caption_size)
        caption.text = "<br>".join(new_lines)
        grow += (len(new_lines) - len(old_lines)) * caption_size * LINE_HEIGHT

    lines: list[str] = []
    if provenance.reconstructed:
        lines.append(f"<b>{_escape(RECONSTRUCTED_TAG)}</b>")
    items = [f"{k}: {v}" for k, v in provenance.items() if not (k == "Data" and v == RECONSTRUCTED_TAG)]
    lines.extend(_escape(line) for line in _wrap_items(items, text_px, size))
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


# ---------------------------------------------------------------------------- figure suppression
_FRACTION = re.compile(r"\b(\d+)(\s*/\s*)(\d+)\b")
_N_EQUALS = re.compile(r"\b([nN]\s*=\s*)(\d+)\b")
_PERCENT = re.compile(r"\b\d+(?:\.\d+)?\s*%(?!\s*CI)")
_CI_RANGE = re.compile(r"\(\s*\d+%\s*CI[^)]*\)")


def _small(k: int, threshold: int) -> bool:
    return 1 <= k < threshold


def _suppress_text(text: str, threshold: int) -> str:
    """"3/18 · 16.7% (95% CI …)" → "&lt;5/18 · –%"; plotly text is HTML-like, so "<" is escaped."""
    hit = False
    small = f"&lt;{threshold}"

    def fraction(m: re.Match[str]) -> str:
        nonlocal hit
        k, n = int(m.group(1)), int(m.group(3))
        if _small(k, threshold) or _small(n, threshold):
            hit = True
        ks = small if _small(k, threshold) else m.group(1)
        ns = small if _small(n, threshold) else m.group(3)
        return f"{ks}{m.group(2)}{ns}"

    def n_equals(m: re.Match[str]) -> str:
        nonlocal hit
        if _small(int(m.group(2)), threshold):
            hit = True
            return f"{m.group(1)}{small}"
        return m.group(0)

    out = _N_EQUALS.sub(n_equals, _FRACTION.sub(fraction, text))
    if hit:
        out = _PERCENT.sub("–%", _CI_RANGE.sub("", out))
    return out


_NUMERIC_LABEL = re.compile(r"^\s*(?:<[^>]+>)*\s*\d+(?:\.\d+)?\s*%?\s*(?:\([^)]*\))?\s*(?:<[^>]+>)*\s*$")


def suppress_figure_counts(fig: go.Figure, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> go.Figure:
    """A copy of `fig` whose printed counts 1…threshold−1 read "<threshold".

    Handles "k/N" and "n = k" in trace text, names, tick labels and annotations, and the
    number-at-risk table of a Kaplan–Meier figure. Where a count is suppressed, percentages in the
    same label, and number-only labels on the same row (a forest plot's "% (95% CI)" column), read
    "–". Marker positions and bar lengths are not changed.
    """
    out = go.Figure(fig)
    hit_rows: set[tuple[str, Any]] = set()

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            return _suppress_text(value, threshold)
        if isinstance(value, (list, tuple)):
            return [fix(v) for v in value]
        return value

    for trace in out.data:
        role = trace.meta.get("role") if isinstance(trace.meta, dict) else None
        text = getattr(trace, "text", None)
        if isinstance(text, (list, tuple)):
            ys = list(getattr(trace, "y", None) or [None] * len(text))
            new = []
            for i, v in enumerate(text):
                if role == "at_risk_table":
                    nv = f"&lt;{threshold}" if str(v).strip().isdigit() and _small(int(v), threshold) else v
                else:
                    nv = fix(v)
                if nv != v and i < len(ys):
                    hit_rows.add(("trace", ys[i]))
                new.append(nv)
            trace.text = new
        elif isinstance(text, str):
            trace.text = fix(text)
        if getattr(trace, "name", None):
            trace.name = fix(trace.name)
    for annotation in out.layout.annotations:
        if annotation.text and annotation.name != "provenance":
            new_text = fix(annotation.text)
            if new_text != annotation.text:
                hit_rows.add((str(annotation.yref), annotation.y))
                annotation.text = new_text
    # number-only labels on a row whose count was suppressed
    for annotation in out.layout.annotations:
        if ((str(annotation.yref), annotation.y) in hit_rows and annotation.text
                and _NUMERIC_LABEL.match(annotation.text)):
            annotation.text = "–"
    for axis_name in [k for k in out.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        axis = out.layout[axis_name]
        if axis.ticktext is not None:
            axis.ticktext = fix(list(axis.ticktext))
    if out.layout.title.text:
        out.layout.title.text = fix(out.layout.title.text)
    return out


# ---------------------------------------------------------------------------- rendering
def _export_figure(fig: go.Figure, provenance: Provenance, preset: ImagePreset) -> go.Figure:
    if provenance.suppress_below is not None:
        fig = suppress_figure_counts(fig, provenance.suppress_below)
    return with_provenance(fig, provenance, width_px=preset.css_width, font_size=preset.footer_size)


def _opts(fmt: str, fig: go.Figure, preset: ImagePreset) -> dict:
    height = preset.css_height or int(fig.layout.height or 600)
    scale = preset.scale if fmt == "png" else 1
    return {"format": fmt, "width": preset.css_width, "height": height, "scale": scale}


def figure_image(fig: go.Figure, provenance: Provenance, fmt: str = "png",
                 preset: str | ImagePreset = "slide") -> bytes:
    """The chart as PNG, SVG or PDF at a preset size, with its provenance in the image.

    Raises StaticExportUnavailable (no browser) or ExportRenderError (the render failed).
    """
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"image format must be one of {', '.join(IMAGE_FORMATS)}, not {fmt!r}")
    chosen = PRESETS[preset] if isinstance(preset, str) else preset
    _require_export()
    exported = _export_figure(fig, provenance, chosen)
    data = _RENDERER.render_many([(exported.to_dict(), _opts(fmt, exported, chosen))])[0]
    return with_png_dpi(data, chosen.dpi) if fmt == "png" else data


def figure_images(jobs: Sequence[tuple[go.Figure, Provenance, str, str | ImagePreset]]) -> list[bytes]:
    """Several images in one queue (the deck, a page's "prepare all")."""
    _require_export()
    prepared = []
    for fig, provenance, fmt, preset in jobs:
        chosen = PRESETS[preset] if isinstance(preset, str) else preset
        exported = _export_figure(fig, provenance, chosen)
        prepared.append((exported.to_dict(), _opts(fmt, exported, chosen)))
    return _RENDERER.render_many(prepared)


def with_png_dpi(png: bytes, dpi: int) -> bytes:
    """The PNG with a pHYs chunk saying `dpi`, so Word and PowerPoint place it at its physical size."""
    import struct
    import zlib

    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        return png
    ihdr_end = 8 + 8 + int.from_bytes(png[8:12], "big") + 4
    rest = png[ihdr_end:]
    if b"pHYs" in rest[:64]:
        return png
    ppm = round(dpi / 0.0254)
    body = b"pHYs" + struct.pack(">IIB", ppm, ppm, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    return png[:ihdr_end] + chunk + rest


# =============================================================================================
# Tables
# =============================================================================================
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def neutralise_cell(value: Any) -> Any:
    """'=1+1' → "'=1+1"; numbers, and text that is exactly a plain number, are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every formula-looking text cell (and column name) neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_cell).astype(object)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


_COUNT_COLUMN = re.compile(
    r"^(n\b|count|events|deaths|censored|at risk|patients|responders|excluded|after[ _]hsct|n_rows|"
    r"n_with_counts|n_meeting|number)", re.IGNORECASE)
_MASK_COLUMN = re.compile(r"%|\bci\b|percent|share|rate", re.IGNORECASE)
_CELL_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)(.*)$", re.DOTALL)
_CELL_COUNT_PCT = re.compile(r"^\s*(\d+)\s*\(([^)]*)\)\s*$")
_CELL_INT = re.compile(r"^\s*(\d+)\s*$")
SUPPRESSED = "suppressed"


def _is_int_value(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer()


def suppress_small_counts(frame: pd.DataFrame, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD, *,
                          count_columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A copy in which patient counts 1…threshold−1 read "<threshold" (see the module docstring).

    Counts are found in: whole numbers in count columns (named n, N (%), events, deaths, …, or
    `count_columns`), and anywhere as text "k/N …" or "k (p)". In a row with a suppressed count the
    percentage / CI cells are set to "suppressed".
    """
    out = frame.copy().astype(object)
    counted = set(count_columns) if count_columns is not None else {
        c for c in out.columns if _COUNT_COLUMN.match(str(c).strip())}
    small = f"<{threshold}"
    for i in range(len(out)):
        touched: set[Any] = set()
        hit = False
        for column in out.columns:
            value = out.iat[i, out.columns.get_loc(column)]
            new = value
            if column in counted and _is_int_value(value):
                if _small(int(value), threshold):
                    new = small
            elif isinstance(value, str):
                if m := _CELL_FRACTION.match(value):
                    k, n = int(m.group(1)), int(m.group(2))
                    if _small(k, threshold) or _small(n, threshold):
                        ks = small if _small(k, threshold) else str(k)
                        ns = small if _small(n, threshold) else str(n)
                        new = f"{ks}/{ns}" if _small(k, threshold) else f"{ks}/{ns}{m.group(3)}"
                elif (m := _CELL_COUNT_PCT.match(value)) and _small(int(m.group(1)), threshold):
                    new = small
                elif column in counted and (m := _CELL_INT.match(value)) and _small(int(m.group(1)), threshold):
                    new = small
            if new is not value:
                out.iat[i, out.columns.get_loc(column)] = new
                touched.add(column)
                hit = True
        if hit:
            for column in out.columns:
                if column not in touched and column not in counted and _MASK_COLUMN.search(str(column)):
                    if out.iat[i, out.columns.get_loc(column)] not in (None, "", "—"):
                        out.iat[i, out.columns.get_loc(column)] = SUPPRESSED
    return out


def _prepare_table(frame: pd.DataFrame, provenance: Provenance, row_level: bool) -> pd.DataFrame:
    if row_level and provenance.suppress_below is not None:
        raise RowLevelExportBlocked(
            f"Small-cell suppression (<{provenance.suppress_below}) is on: patient-level rows cannot be exported. "
            "Turn suppression off to export them, and share them only as your data agreement allows.")
    out = frame
    if provenance.suppress_below is not None:
        out = suppress_small_counts(out, provenance.suppress_below)
    return neutralise_formulas(out)


def _comment_block(provenance: Provenance) -> str:
    return "".join(f"# {k}: {' '.join(str(v).split())}\n" for k, v in provenance.items())


def table_csv(frame: pd.DataFrame, provenance: Provenance, *, row_level: bool = False) -> bytes:
    """CSV: `# Key: value` provenance lines, then the table (UTF-8 with BOM)."""
    table = _prepare_table(frame, provenance, row_level)
    body = table.to_csv(index=False, lineterminator="\n")
    return ("\ufeff" + _comment_block(provenance) + body).encode("utf-8")


def _excel_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0, 0) and value.tzinfo is None else value.replace(tzinfo=None)
    if isinstance(value, (list, tuple, np.ndarray)):
        return neutralise_cell(", ".join(str(v) for v in value))
    if isinstance(value, (str, bool, int, dt.date)):
        return value
    return neutralise_cell(str(value))


def _write_sheet(ws: Any, table: pd.DataFrame, first_row: int) -> None:
    from openpyxl.styles import Border, Font, PatternFill, Side

    header_font = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF4")
    rule = Border(bottom=Side(style="thin", color="666666"))
    for c, name in enumerate(table.columns, start=1):
        cell = ws.cell(row=first_row, column=c, value=str(name))
        cell.font, cell.fill, cell.border = header_font, fill, rule
    widths = [len(str(name)) for name in table.columns]
    for r, row in enumerate(table.itertuples(index=False), start=first_row + 1):
        for c, value in enumerate(row, start=1):
            v = _excel_value(value)
            cell = ws.cell(row=r, column=c)
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"      # never a formula, whatever the text
            elif isinstance(v, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(v, dt.date):
                cell.number_format = "yyyy-mm-dd"
            widths[c - 1] = max(widths[c - 1], min(60, len(str(v)) if v is not None else 0))
    from openpyxl.utils import get_column_letter
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = max(8, min(60, width + 2))


def _provenance_block(ws: Any, provenance: Provenance) -> int:
    """Write the header block from A1; return the next free row (after one blank row)."""
    from openpyxl.styles import Font

    r = 1
    for key, value in provenance.items():
        key_cell = ws.cell(row=r, column=1, value=key)
        value_cell = ws.cell(row=r, column=2, value=neutralise_cell(value))
        value_cell.data_type = "s"
        key_cell.font = Font(bold=True, color="9C0006" if value == RECONSTRUCTED_TAG else "333333")
        if value == RECONSTRUCTED_TAG:
            value_cell.font = Font(bold=True, color="9C0006")
        r += 1
    return r + 1


def _workbook(provenance: Provenance) -> Any:
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.creator = f"{PRODUCT_NAME} {provenance.product_version}"
    wb.properties.title = provenance.analysis or provenance.slice_text
    wb.properties.description = "\n".join(provenance.lines())
    return wb


def _sheet_title(name: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", name).strip() or "table"
    return cleaned[:31]


def _save(wb: Any) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def table_xlsx(frame: pd.DataFrame, provenance: Provenance, *, sheet: str = "table",
               row_level: bool = False) -> bytes:
    """XLSX: the provenance block from A1, a blank row, then the table (header frozen)."""
    table = _prepare_table(frame, provenance, row_level)
    wb = _workbook(provenance)
    ws = wb.active
    ws.title = _sheet_title(sheet)
    first = _provenance_block(ws, provenance)
    _write_sheet(ws, table, first)
    ws.freeze_panes = ws.cell(row=first + 1, column=1)
    return _save(wb)


# =============================================================================================
# Slice data in the import format
# =============================================================================================
def _import_text(frame: pd.DataFrame) -> pd.DataFrame:
    from core.importer import to_import_text
    return to_import_text(frame)


def slice_data_zip(patients: pd.DataFrame, events: pd.DataFrame, provenance: Provenance) -> bytes:
    """A ZIP of patients.csv and events.csv (import format, loadable as is) and PROVENANCE.txt."""
    _prepare_table(patients.head(0), provenance, row_level=True)   # refuses while suppression is on
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in (("patients.csv", patients), ("events.csv", events)):
            text = neutralise_formulas(_import_text(frame)).to_csv(index=False, lineterminator="\n")
            archive.writestr(name, "\ufeff" + text)
        readme = ("Rows of one slice of a cohort, in the import format (the data contract's columns).\n"
                  "Load them again on the import page: patients.csv and events.csv.\n"
                  "Text cells that began with = + - @ were prefixed with ' so spreadsheets do not run them.\n\n"
                  + "\n".join(provenance.lines()) + "\n")
        archive.writestr("PROVENANCE.txt", readme)
    return buffer.getvalue()


def slice_data_xlsx(patients: pd.DataFrame, events: pd.DataFrame, provenance: Provenance) -> bytes:
    """An XLSX with sheets patients, events (header in row 1, loadable as is) and readme (provenance)."""
    _prepare_table(patients.head(0), provenance, row_level=True)
    wb = _workbook(provenance)
    ws = wb.active
    ws.title = "patients"
    _write_sheet(ws, neutralise_formulas(patients), 1)
    ws.freeze_panes = "A2"
    ws_events = wb.create_sheet("events")
    _write_sheet(ws_events, neutralise_formulas(events), 1)
    ws_events.freeze_panes = "A2"
    readme = wb.create_sheet("readme")
    _provenance_block(readme, provenance)
    return _save(wb)


# =============================================================================================
# Tumour-board deck
# =============================================================================================
DECK_TITLE = "Inotuzumab ozogamicin in R/R B-ALL — tumour board"
SLIDE_W_IN, SLIDE_H_IN = 40 / 3, 7.5
_DECK_CHART_W_IN, _DECK_CHART_H_IN = 9.0, 6.0        # the chart's box on a slide
_DECK_CHART_CSS_W = 1000                               # presenter fonts (18 px) land at ~12 pt on the slide
DECK_CHART_PRESET = ImagePreset("deck", "Deck chart", _DECK_CHART_CSS_W / CSS_PX_PER_INCH,
                                _DECK_CHART_CSS_W * _DECK_CHART_H_IN / _DECK_CHART_W_IN / CSS_PX_PER_INCH,
                                dpi=192, footer_size=13)


_TALL_CHARTS = ("survival", "swimmer")    # an at-risk table / one lane per patient: keep their height


def deck_chart_preset(figure: go.Figure, *, tall: bool = False) -> ImagePreset:
    """The slide box's aspect; with `tall` (one lane per patient) up to 1.6× that height."""
    if not tall:
        return DECK_CHART_PRESET
    box = DECK_CHART_PRESET.css_height or 667
    natural = int(figure.layout.height or box) + 120          # + the provenance footer
    return replace(DECK_CHART_PRESET, height_in=min(max(box, natural), int(box * 1.6)) / CSS_PX_PER_INCH)
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


def _progress(callback: ProgressCallback | None, fraction: float, message: str) -> None:
    if callback is not None:
        callback(max(0.0, min(1.0, fraction)), message)


def _rate_text(result: Any) -> tuple[str, str]:
    from core.results import ProportionEstimate, format_percent
    if isinstance(result, ProportionEstimate):
        ci = f"{format_percent(100 * result.lower)}–{format_percent(100 * result.upper)}"
        return f"{result.count}/{result.denominator}", f"{result.percent()}% ({ci})"
    return "—", "—"


def _blast_labels(rows: Sequence[Any], threshold: float) -> list[Any]:
    names = {"low": f"Blasts < {threshold:g}%", "high": f"Blasts ≥ {threshold:g}%"}
    return [replace(r, label=names.get(r.value, "Blasts not reported")) if r.grouping == "blast_burden" else r
            for r in rows]


def deck_content(cohort: Any, spec: Any, provenance: Provenance, *,
                 on_progress: ProgressCallback | None = None, conf_level: float = 0.95,
                 include_paper_check: bool | None = None, paper_check: Any = None) -> DeckContent:
    """Compute what the deck shows for the slice (presenter-mode figures and their key numbers).

    The paper-check slide is included for the default (reconstructed) cohort unless
    `include_paper_check` says otherwise; pass `paper_check` (a PaperCheck a page has cached) to
    avoid recomputing it.
    """
    from core import charts
    from core.queries import fetch_patient_listing, fetch_slice_events
    from core.response import GROUPING_TITLES, cr_cri_rate, cr_cri_rate_by, summarise_response
    from core.safety import causes_of_death, toxicity_by_hsct
    from core.survival import estimate_survival

    caption = provenance.caption
    items: list[DeckChart] = []
    notes: list[str] = []

    _progress(on_progress, 0.02, "Response")
    overall = cr_cri_rate(cohort, spec, conf_level=conf_level)
    groupings = ("salvage_line", "blast_burden", "cycle1_dose_group")
    sections = [(GROUPING_TITLES[g], _blast_labels(cr_cri_rate_by(cohort, spec, g, conf_level=conf_level),
                                                  spec.blast_threshold)) for g in groupings]
    summary = summarise_response(cohort, spec, conf_level=conf_level)
    forest = charts.forest_figure((), overall, title="CR/CRi rate by subgroup", sections=sections,
                                  caption=caption, presenter=True)
    comp = summary.composition
    rows = [("CR/CRi, all patients", *_rate_text(overall)),
            ("CR", f"{comp.cr}/{comp.n}", ""), ("CRi", f"{comp.cri}/{comp.n}", ""),
            ("No response", f"{comp.no_response}/{comp.n}", ""),
            ("Not evaluable", f"{comp.not_evaluable}/{comp.n}", ""),
            ("MRD negative, of CR/CRi", *_rate_text(summary.mrd_negative)),
            ("Deep response, of CR/CRi", *_rate_text(summary.deep_response)),
            ("HSCT, all patients", *_rate_text(summary.hsct))]
    ctr = summary.cycles_to_response
    if ctr.median is not None:
        rows.append(("Cycles to CR/CRi, median (range)", "", f"{ctr.median:g} ({ctr.minimum}–{ctr.maximum})"))
    items.append(DeckChart("response", "Response: CR/CRi by subgroup", forest,
                           for_proportion(provenance, overall, analysis="CR/CRi rate (best response)",
                                          endpoint="CR/CRi = complete remission or CR with incomplete "
                                                   "haematologic recovery, best response"),
                           pd.DataFrame(rows, columns=["Measure", "n/N", "% (95% CI)"])))

    _progress(on_progress, 0.12, "Overall survival")
    analysis = estimate_survival(cohort, spec, "os", conf_level=conf_level)
    km = charts.km_figure(analysis, caption=caption, presenter=True)
    os_rows: list[tuple[str, Any]] = []
    for curve in analysis.fitted:
        os_rows += [("Patients", curve.n), ("Deaths", curve.events), ("Censored", curve.censored),
                    ("Median OS, months (95% CI)", curve.median.format().replace(" mo", ""))]
        for rate in curve.landmarks:
            os_rows.append((f"OS at {rate.months:g} months (95% CI)", rate.format()))
    if not os_rows:
        os_rows = [("Patients", provenance.n_slice), ("Median OS", "not estimable")]
    items.append(DeckChart("survival", "Overall survival", km, for_survival(provenance, analysis),
                           pd.DataFrame([(k, str(v)) for k, v in os_rows], columns=["Measure", "Value"])))

    _progress(on_progress, 0.22, "Safety")
    tox = toxicity_by_hsct(cohort, spec, conf_level=conf_level)
    tox_fig = charts.toxicity_figure(tox, caption=caption, presenter=True)
    tox_rows = []
    for row in tox.rows:
        tox_rows.append((row.label, _rate_text(row.hsct)[0], _rate_text(row.no_hsct)[0],
                         " ".join(_rate_text(row.overall))))
    deaths = causes_of_death(cohort, spec, conf_level=conf_level)
    items.append(DeckChart("safety", "Safety: toxicity by HSCT status", tox_fig, for_toxicity(provenance, tox),
                           pd.DataFrame(tox_rows, columns=["Toxicity", "HSCT n/N", "No HSCT n/N",
                                                           "All, n/N % (95% CI)"])))

    if provenance.suppress_below is None:
        _progress(on_progress, 0.30, "Course per patient")
        listing = fetch_patient_listing(cohort, spec)
        events = fetch_slice_events(cohort, spec, limit_patients=max(1, len(listing)))
        swimmer = charts.swimmer_figure(listing, events, caption=caption, presenter=True)
        sw_rows = [("Patients", len(listing)),
                   ("Responders (CR/CRi)", int(listing["best_response"].isin(["CR", "CRi"]).sum())),
                   ("HSCT", int(listing["hsct"].fillna(False).astype(bool).sum())),
                   ("Relapses", int(listing["relapse_date"].notna().sum())),
                   ("Deaths", int(listing["os_event"].fillna(False).astype(bool).sum()))]
        sw_rows += [(f"Death: {c.cause}", c.count) for c in deaths.causes]
        items.append(DeckChart("swimmer", "Course of treatment per patient", swimmer,
                               for_listing(provenance, listing, analysis="Course of treatment per patient"),
                               pd.DataFrame([(k, str(v)) for k, v in sw_rows], columns=["Measure", "n"])))
    else:
        notes.append(f"The per-patient swimmer plot is left out: small-cell suppression (<{provenance.suppress_below}) "
                     "is on and it shows individual patients.")

    paper_summary = None
    paper_misses = None
    if include_paper_check is None:
        include_paper_check = provenance.reconstructed
    if include_paper_check:
        _progress(on_progress, 0.36, "Paper check")
        if paper_check is None:
            from core.paper_check import check_paper
            paper_check = check_paper(cohort)
        paper_summary, paper_misses = _paper_slide(paper_check)
        if not spec.is_default():
            notes.append(PAPER_CHECK_NOTE)

    if provenance.suppress_below is not None:
        items = [replace(c, numbers=suppress_small_counts(c.numbers, provenance.suppress_below,
                                                          count_columns=[col for col in c.numbers.columns
                                                                         if col in ("n", "Value")]))
                 for c in items]
    return DeckContent(title=DECK_TITLE, provenance=provenance, charts=tuple(items), notes=tuple(notes),
                       paper_summary=paper_summary, paper_misses=paper_misses)


PAPER_CHECK_NOTE = "The paper check always uses the whole cohort, not the slice."


def _paper_slide(check: Any) -> tuple[str, pd.DataFrame]:
    summary = f"{check.n_exact} of {check.n_counted} published figures reproduced exactly"
    misses = pd.DataFrame([{"ID": f.target_id, "Figure": f.figure, "Published": f.published,
                            "Computed": f.computed, "Status": f.status} for f in check.misses],
                          columns=["ID", "Figure", "Published", "Computed", "Status"])
    return summary, misses


def _title_lines(content: DeckContent) -> list[str]:
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


def _footer_text(p: Provenance) -> str:
    parts = [f"{p.slice_text} · {p.n_text}"]
    if p.reconstructed:
        parts.append(RECONSTRUCTED_TAG)
    parts.append(f"{PRODUCT_NAME} {p.product_version} · {p.exported_on.isoformat()}")
    return " · ".join(parts)


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


# ---------------------------------------------------------------------------- PPTX
def deck_pptx(content: DeckContent, *, images: Sequence[bytes] | None = None,
              on_progress: ProgressCallback | None = None) -> bytes:
    """The deck as PowerPoint: title slide, one slide per chart (image + native table), paper check."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    if images is None and export_available():
        images = figure_images([(c.figure, c.provenance, "png", deck_chart_preset(c.figure, tall=c.key in _TALL_CHARTS)) for c in content.charts])
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    title_layout, title_only = prs.slide_layouts[0], prs.slide_layouts[5]
    margin = Inches(0.4)
    content_w = prs.slide_width - 2 * margin
    red = RGBColor(0x9C, 0x00, 0x06)

    def place_title(slide: Any, text: str) -> None:
        title = slide.shapes.title
        title.left, title.top, title.width, title.height = margin, Inches(0.25), content_w, Inches(0.8)
        title.text = text
        para = title.text_frame.paragraphs[0]
        para.font.size, para.font.bold = Pt(30), True
        para.alignment = 1  # left

    def footer(slide: Any) -> None:
        box = slide.shapes.add_textbox(margin, prs.slide_height - Inches(0.45), content_w, Inches(0.35))
        box.text_frame.word_wrap = True
        para = box.text_frame.paragraphs[0]
        para.text = _footer_text(content.provenance)
        para.font.size = Pt(11)
        if content.provenance.reconstructed:
            para.font.color.rgb = red

    def add_table(slide: Any, frame: pd.DataFrame, left: int, top: int, width: int, max_rows: int = 16,
                  size: int = 14) -> None:
        shown = frame.head(max_rows)
        rows, cols = len(shown) + 1, len(shown.columns)
        height = Inches(0.4) * rows
        table = slide.shapes.add_table(rows, cols, left, top, width, height).table
        weights = _column_weights(shown)
        for c, weight in enumerate(weights):
            table.columns[c].width = int(width * weight / sum(weights))
        for c, name in enumerate(shown.columns):
            cell = table.cell(0, c)
            cell.text = str(name)
            cell.text_frame.paragraphs[0].font.size = Pt(size)
            cell.text_frame.paragraphs[0].font.bold = True
        for r, row in enumerate(shown.itertuples(index=False), start=1):
            for c, value in enumerate(row):
                cell = table.cell(r, c)
                cell.text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
                cell.text_frame.paragraphs[0].font.size = Pt(size)

    # title slide
    slide = prs.slides.add_slide(title_layout)
    slide.shapes.title.text = content.title
    slide.shapes.title.text_frame.paragraphs[0].font.size = Pt(36)
    subtitle = slide.placeholders[1]
    subtitle.left, subtitle.width = margin, content_w
    subtitle.top, subtitle.height = Inches(3.6), Inches(3.4)
    slide.shapes.title.left, slide.shapes.title.width = margin, content_w
    frame = subtitle.text_frame
    for i, line in enumerate(_title_lines(content)):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.text = line
        para.font.size = Pt(22 if i == 0 else 18)
        if line == RECONSTRUCTED_TAG:
            para.font.bold = True
            para.font.color.rgb = red

    n_steps = len(content.charts) + 1
    for i, chart in enumerate(content.charts):
        _progress(on_progress, 0.8 + 0.15 * i / n_steps, f"Slide: {chart.title}")
        slide = prs.slides.add_slide(title_only)
        place_title(slide, chart.title)
        top = Inches(_BOX_TOP_IN)
        box_w, box_h = Inches(_BOX_W_IN), prs.slide_height - top - Inches(_BOX_BOTTOM_IN)
        image_w = box_w
        if images is not None:
            png = images[i]
            w_px, h_px = _png_size(png)
            scale = min(box_w / w_px, box_h / h_px)
            image_w, image_h = int(w_px * scale), int(h_px * scale)
            slide.shapes.add_picture(io.BytesIO(png), Inches(_BOX_LEFT_IN), top, width=image_w, height=image_h)
        else:
            box = slide.shapes.add_textbox(margin, top, box_w, Inches(1))
            box.text_frame.word_wrap = True
            box.text_frame.text = "Chart image unavailable: " + export_available().message
        table_left = Inches(_BOX_LEFT_IN) + image_w + Inches(0.2)
        add_table(slide, chart.numbers, table_left, top, prs.slide_width - table_left - margin,
                  size=14 if len(chart.numbers.columns) <= 3 else 12)
        footer(slide)

    if content.paper_summary is not None:
        slide = prs.slides.add_slide(title_only)
        place_title(slide, "Paper check")
        box = slide.shapes.add_textbox(margin, Inches(1.15), content_w, Inches(0.6))
        box.text_frame.text = content.paper_summary + (
            f"; {len(content.paper_misses)} differ:" if content.paper_misses is not None and len(content.paper_misses)
            else "")
        box.text_frame.paragraphs[0].font.size = Pt(22)
        if content.paper_misses is not None and len(content.paper_misses):
            add_table(slide, _misses_shown(content.paper_misses), margin, Inches(1.9), content_w,
                      max_rows=MAX_MISSES_SHOWN + 1, size=12)
        footer(slide)
    _progress(on_progress, 0.97, "PowerPoint written")
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()


def _misses_shown(misses: pd.DataFrame) -> pd.DataFrame:
    shown = misses.head(MAX_MISSES_SHOWN)
    if len(misses) > MAX_MISSES_SHOWN:
        more = pd.DataFrame([{"ID": "…", "Figure": f"and {len(misses) - MAX_MISSES_SHOWN} more (see the "
                                                   "paper-check table)", "Published": "", "Computed": "",
                              "Status": ""}])
        shown = pd.concat([shown, more], ignore_index=True)
    return shown


# ---------------------------------------------------------------------------- PDF
_SLIDE_CSS = (round(SLIDE_W_IN * CSS_PX_PER_INCH), round(SLIDE_H_IN * CSS_PX_PER_INCH))   # 1280 × 720


def _slide_figure(title: str, *, footer: str, reconstructed: bool) -> go.Figure:
    w, h = _SLIDE_CSS
    fig = go.Figure()
    fig.update_layout(width=w, height=h, margin=dict(l=0, r=0, t=0, b=0), paper_bgcolor="#FFFFFF",
                      plot_bgcolor="#FFFFFF", showlegend=False,
                      font=dict(family="Arial, Helvetica, 'Liberation Sans', sans-serif", color="#000000"))
    fig.update_xaxes(visible=False, range=[0, 1], fixedrange=True)
    fig.update_yaxes(visible=False, range=[0, 1], fixedrange=True)
    fig.add_annotation(text=f"<b>{_escape(title)}</b>", xref="paper", yref="paper", x=0.03, y=0.975,
                       xanchor="left", yanchor="top", showarrow=False, font=dict(size=30))
    fig.add_annotation(text=_escape(footer), xref="paper", yref="paper", x=0.03, y=0.012, xanchor="left",
                       yanchor="bottom", showarrow=False, align="left",
                       font=dict(size=11, color="#9C0006" if reconstructed else "#333333"))
    return fig


def _column_weights(frame: pd.DataFrame) -> list[int]:
    """Relative column widths from the longest cell (bounded, so a long label wraps)."""
    return [max(7, min(28, max([len(str(c))] + [len(str(v)) for v in frame[c]]))) for c in frame.columns]


def _table_trace(frame: pd.DataFrame, x: tuple[float, float], y: tuple[float, float], size: int) -> go.Table:
    widths = _column_weights(frame)
    return go.Table(
        domain=dict(x=list(x), y=list(y)), columnwidth=widths,
        header=dict(values=[f"<b>{_escape(str(c))}</b>" for c in frame.columns], align="left",
                    fill_color="#E8EEF4", line_color="#999999", font=dict(size=size, color="#000000"),
                    height=size * 2),
        cells=dict(values=[[_escape("" if v is None else str(v)) for v in frame[c]] for c in frame.columns],
                   align="left", fill_color="#FFFFFF", line_color="#BBBBBB", font=dict(size=size, color="#000000"),
                   height=size * 1.9),
    )


_BOX_LEFT_IN, _BOX_TOP_IN, _BOX_W_IN, _BOX_BOTTOM_IN = 0.35, 1.0, _DECK_CHART_W_IN, 0.45


def _chart_box_fit(width: float, height: float) -> tuple[float, float]:
    """(scale, fitted width in inches) of a chart of `width` × `height` (any unit per inch ratio)."""
    box_w, box_h = _BOX_W_IN, SLIDE_H_IN - _BOX_TOP_IN - _BOX_BOTTOM_IN
    scale = min(box_w / width, box_h / height)
    return scale, width * scale


def _svg_size(svg: bytes) -> tuple[float, float]:
    head = svg[:400].decode("utf-8", "replace")
    w = re.search(r'width="([\d.]+)', head)
    h = re.search(r'height="([\d.]+)', head)
    if not (w and h):
        raise ExportRenderError("The chart SVG has no size; cannot place it on the slide.")
    return float(w.group(1)), float(h.group(1))


def deck_pdf(content: DeckContent, *, chart_svgs: Sequence[bytes] | None = None,
             on_progress: ProgressCallback | None = None) -> bytes:
    """The deck as a PDF, one page per slide, all vector: each slide (title, chart, native table,
    footer) is one plotly page with the chart's SVG as a layout image; pypdf joins the pages."""
    from pypdf import PdfReader, PdfWriter

    _require_export()
    if chart_svgs is None:
        _progress(on_progress, 0.4, "Rendering chart images")
        chart_svgs = figure_images([(c.figure, c.provenance, "svg", deck_chart_preset(c.figure, tall=c.key in _TALL_CHARTS)) for c in content.charts])
    p = content.provenance
    footer = _footer_text(p)
    w, h = _SLIDE_CSS
    pages: list[go.Figure] = []

    title = _slide_figure(content.title, footer=footer, reconstructed=p.reconstructed)
    title.layout.annotations[0].update(y=0.62, yanchor="bottom", font=dict(size=36))
    lines = _title_lines(content)
    text = "<br>".join(f"<b>{_escape(line)}</b>" if line == RECONSTRUCTED_TAG else _escape(line) for line in lines)
    title.add_annotation(text=text, xref="paper", yref="paper", x=0.03, y=0.56, xanchor="left", yanchor="top",
                         showarrow=False, align="left", font=dict(size=20))
    pages.append(title)

    for chart, svg in zip(content.charts, chart_svgs):
        page = _slide_figure(chart.title, footer=footer, reconstructed=p.reconstructed)
        cw, ch = _svg_size(svg)
        scale, fitted_w = _chart_box_fit(cw, ch)
        page.add_layout_image(source="data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
                              xref="paper", yref="paper", x=_BOX_LEFT_IN / SLIDE_W_IN, y=1 - _BOX_TOP_IN / SLIDE_H_IN,
                              sizex=fitted_w / SLIDE_W_IN, sizey=ch * scale / SLIDE_H_IN, xanchor="left",
                              yanchor="top", sizing="contain", layer="above")
        size = 14 if len(chart.numbers.columns) <= 3 else 12
        left = (_BOX_LEFT_IN + fitted_w + 0.2) / SLIDE_W_IN
        page.add_trace(_table_trace(chart.numbers, (left, 1 - 0.4 / SLIDE_W_IN),
                                    (0.08, 1 - _BOX_TOP_IN / SLIDE_H_IN), size))
        pages.append(page)

    if content.paper_summary is not None:
        page = _slide_figure("Paper check", footer=footer, reconstructed=p.reconstructed)
        misses = content.paper_misses if content.paper_misses is not None else pd.DataFrame()
        page.add_annotation(text=_escape(content.paper_summary + (f"; {len(misses)} differ:" if len(misses) else "")),
                            xref="paper", yref="paper", x=0.03, y=0.86, xanchor="left", yanchor="top",
                            showarrow=False, font=dict(size=22))
        if len(misses):
            page.add_trace(_table_trace(_misses_shown(misses), (0.03, 0.97), (0.08, 0.78), 12))
        pages.append(page)

    _progress(on_progress, 0.75, "Rendering PDF pages")
    rendered = _RENDERER.render_many([(page.to_dict(), {"format": "pdf", "width": w, "height": h, "scale": 1})
                                      for page in pages])
    writer = PdfWriter()
    for pdf in rendered:
        writer.add_page(PdfReader(io.BytesIO(pdf)).pages[0])
    writer.add_metadata({"/Title": content.title, "/Creator": f"{PRODUCT_NAME} {p.product_version}",
                         "/Subject": "; ".join(p.lines())})
    buffer = io.BytesIO()
    writer.write(buffer)
    _progress(on_progress, 0.97, "PDF written")
    return buffer.getvalue()


def build_deck(cohort: Any, spec: Any, provenance: Provenance, *, on_progress: ProgressCallback | None = None,
               include_paper_check: bool | None = None, paper_check: Any = None) -> DeckFiles:
    """The tumour-board deck for the slice, as PPTX and PDF; each chart rendered once per format.

    The paper check (when included and not passed in) is computed on a worker thread while the
    browser renders the charts. Without a browser the PPTX is still made (its tables and text; the
    chart images say why they are missing) and `pdf` is None with the reason in `pdf_message`.
    """
    from concurrent.futures import ThreadPoolExecutor

    wanted = provenance.reconstructed if include_paper_check is None else include_paper_check
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="paper-check") as pool:
        defer = wanted and paper_check is None
        content = deck_content(cohort, spec, provenance, on_progress=on_progress,
                               include_paper_check=wanted and not defer, paper_check=paper_check)
        pending = None
        if defer:   # overlaps the renders, where this thread only waits for the browser
            from core.paper_check import check_paper
            pending = pool.submit(check_paper, cohort)
        status = export_available()
        rendered: list[bytes] | None = None
        n = len(content.charts)
        if status:
            _progress(on_progress, 0.4, "Rendering charts")
            rendered = figure_images(
                [(c.figure, c.provenance, "png", deck_chart_preset(c.figure, tall=c.key in _TALL_CHARTS))
                 for c in content.charts]
                + [(c.figure, c.provenance, "svg", deck_chart_preset(c.figure, tall=c.key in _TALL_CHARTS))
                   for c in content.charts])
            _progress(on_progress, 0.7, "Charts rendered")
        if pending is not None:
            summary, misses = _paper_slide(pending.result())
            notes = content.notes + ((PAPER_CHECK_NOTE,) if not spec.is_default() else ())
            content = replace(content, paper_summary=summary, paper_misses=misses, notes=notes)
    if rendered is None:
        pptx = deck_pptx(content, images=None, on_progress=lambda f, m: _progress(on_progress, 0.4 + 0.5 * f, m))
        _progress(on_progress, 1.0, "Done (PowerPoint without chart images)")
        return DeckFiles(pptx=pptx, pdf=None, pdf_message=status.message)
    pptx = deck_pptx(content, images=rendered[:n], on_progress=lambda f, m: _progress(on_progress, 0.7 + 0.05 * f, m))
    pdf = deck_pdf(content, chart_svgs=rendered[n:], on_progress=lambda f, m: _progress(on_progress, 0.75 + 0.25 * f, m))
    _progress(on_progress, 1.0, "Done")
    return DeckFiles(pptx=pptx, pdf=pdf)
