"""Static images of charts: finding the browser, the one reused kaleido renderer, image bytes.

kaleido 1.x drives a headless Chrome/Chromium. How the browser is found, in order:
`$BROWSER_PATH` if set (honoured or reported as missing, never silently replaced); else
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
import os
import struct
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from core.export.metadata import with_metadata
from core.export.stamp import PRESETS, STAMPS, ImagePreset, Stamp, with_provenance
from core.export.suppression import suppress_figure_counts
from core.provenance import Provenance

BROWSER_ENV = "BROWSER_PATH"
INSTALL_HINT = ("Install Chromium on the server (Debian/Ubuntu: `apt-get install chromium`), or set "
                "$BROWSER_PATH to a Chrome/Chromium executable, then restart the app. CSV and XLSX downloads "
                "work without it.")
START_TIMEOUT_S = 60.0
RENDER_TIMEOUT_S = 60.0
RENDER_TABS = 1
RELOAD_EVERY = 25               # renders between page reloads of the renderer's tab (kaleido reloads after each)
IMAGE_FORMATS = ("png", "svg", "pdf")


# ---------------------------------------------------------------------------- errors and availability
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


def require_export() -> None:
    """Raise StaticExportUnavailable (with the how-to-install message) when images cannot be made."""
    status = export_available()
    if not status:
        raise StaticExportUnavailable(status.message, hint="")


# ---------------------------------------------------------------------------- the renderer
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

    def start(self) -> None:
        with self._lock:
            if self._kaleido is not None:
                return
            status = export_available()
            if not status:
                raise StaticExportUnavailable(status.message, hint="")

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
            self._loop, self._thread, self._kaleido = loop, thread, k
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


def render_pages(jobs: Sequence[tuple[dict, dict]]) -> list[bytes]:
    """Render prepared figures as they are ([(figure dict, kaleido opts)]), no footer added."""
    return _RENDERER.render_many(jobs)


# ---------------------------------------------------------------------------- chart images
def _export_figure(fig: go.Figure, provenance: Provenance, preset: ImagePreset, stamp: Stamp) -> go.Figure:
    if provenance.suppress_below is not None:
        fig = suppress_figure_counts(fig, provenance.suppress_below)
    return with_provenance(fig, provenance, width_px=preset.css_width, font_size=preset.footer_size, stamp=stamp)


def _opts(fmt: str, fig: go.Figure, preset: ImagePreset) -> dict:
    height = preset.css_height or int(fig.layout.height or 600)
    scale = preset.scale if fmt == "png" else 1
    return {"format": fmt, "width": preset.css_width, "height": height, "scale": scale}


def _check(fmt: str, stamp: str) -> None:
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"image format must be one of {', '.join(IMAGE_FORMATS)}, not {fmt!r}")
    if stamp not in STAMPS:
        raise ValueError(f"stamp must be one of {', '.join(STAMPS)}, not {stamp!r}")


def figure_image(fig: go.Figure, provenance: Provenance, fmt: str = "png",
                 preset: str | ImagePreset = "slide", *, stamp: Stamp = "block") -> bytes:
    """The chart as PNG, SVG or PDF at a preset size, with its provenance.

    `stamp` chooses what the picture shows of it (core.export.stamp.STAMPS): the full block under
    the chart, one line, or nothing (the figure alone). The file's metadata carries the full
    record in every case (core.export.metadata). Raises StaticExportUnavailable (no browser) or
    ExportRenderError (the render failed).
    """
    _check(fmt, stamp)
    chosen = PRESETS[preset] if isinstance(preset, str) else preset
    require_export()
    exported = _export_figure(fig, provenance, chosen, stamp)
    data = _RENDERER.render_many([(exported.to_dict(), _opts(fmt, exported, chosen))])[0]
    if fmt == "png":
        data = with_png_dpi(data, chosen.dpi)
    return with_metadata(data, fmt, provenance)


def figure_images(jobs: Sequence[tuple[go.Figure, Provenance, str, str | ImagePreset]], *,
                  stamp: Stamp = "block") -> list[bytes]:
    """Several images in one queue (the deck, a page's "prepare all"), as rendered (no file metadata)."""
    require_export()
    prepared = []
    for fig, provenance, fmt, preset in jobs:
        _check(fmt, stamp)
        chosen = PRESETS[preset] if isinstance(preset, str) else preset
        exported = _export_figure(fig, provenance, chosen, stamp)
        prepared.append((exported.to_dict(), _opts(fmt, exported, chosen)))
    return _RENDERER.render_many(prepared)


def with_png_dpi(png: bytes, dpi: int) -> bytes:
    """The PNG with a pHYs chunk saying `dpi`, so Word and PowerPoint place it at its physical size."""
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


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels, read from the PNG's IHDR chunk."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
