"""Exported files that say which patients they show: PNG/SVG/PDF charts, CSV/XLSX tables, slice
data in the import format, and the tumour-board deck (PPTX and PDF).

Provenance (core.provenance.Provenance) travels inside every file: stamped under the chart in
images as a block, a line or not at all (`stamp`) and always in the image file's metadata
(`metadata`), as comment lines or a header block in tables and in a side file or sheet with
slice data (`tables`, with numeric columns beside printed estimates: `estimates`), in a one-line
footer on each slide of the deck and in full on its provenance slides (`deck`). Small counts can
be suppressed in all of them (`suppression`). Images need a headless Chrome/Chromium driven by
kaleido (`renderer`); without one, everything but the images keeps working.

Modules: `renderer` (the browser, image bytes), `stamp` (provenance in the picture, image sizes),
`metadata` (provenance in the file), `suppression`, `tables`, `estimates`, `deck` (content and
files), `deck_layout` (geometry, text and chart fitting), `deck_plan` (the slides), `pptx_deck`,
`pdf_deck`.
"""

from __future__ import annotations

from core.export.deck import DECK_TITLE, build_deck, deck_content
from core.export.deck_layout import DeckChart, DeckContent, DeckFiles, deck_chart_preset
from core.export.metadata import image_title, image_zip, pdf_info, png_text, with_metadata
from core.export.pdf_deck import deck_pdf
from core.export.pptx_deck import deck_pptx
from core.export.renderer import (
    BROWSER_ENV,
    IMAGE_FORMATS,
    ExportRenderError,
    ExportStatus,
    StaticExportUnavailable,
    export_available,
    figure_image,
    figure_images,
    find_browser,
    start_renderer,
    stop_renderer,
    with_png_dpi,
)
from core.export.stamp import (
    PRESETS,
    STAMPS,
    ImagePreset,
    Stamp,
    with_provenance,
    without_caption,
    without_slice_caption,
)
from core.export.suppression import RowLevelExportBlocked, suppress_figure_counts, suppress_small_counts
from core.export.tables import (
    neutralise_cell,
    neutralise_formulas,
    slice_data_xlsx,
    slice_data_zip,
    table_csv,
    table_xlsx,
)
from core.provenance import DEFAULT_SUPPRESSION_THRESHOLD

MIME_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf",
              "csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "zip": "application/zip", "txt": "text/plain",
              "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}

__all__ = [
    "BROWSER_ENV", "DECK_TITLE", "DEFAULT_SUPPRESSION_THRESHOLD", "IMAGE_FORMATS", "MIME_TYPES", "PRESETS",
    "STAMPS", "DeckChart", "DeckContent", "DeckFiles", "ExportRenderError", "ExportStatus", "ImagePreset",
    "RowLevelExportBlocked", "Stamp", "StaticExportUnavailable", "image_title", "image_zip", "pdf_info", "png_text",
    "with_metadata", "without_caption", "without_slice_caption",
    "build_deck", "deck_chart_preset", "deck_content", "deck_pdf", "deck_pptx", "export_available",
    "figure_image", "figure_images", "find_browser", "neutralise_cell", "neutralise_formulas",
    "slice_data_xlsx", "slice_data_zip", "start_renderer", "stop_renderer", "suppress_figure_counts",
    "suppress_small_counts", "table_csv", "table_xlsx", "with_png_dpi", "with_provenance",
]
