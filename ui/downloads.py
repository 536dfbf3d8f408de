"""Download buttons for charts, tables, slice data and the tumour-board deck (files from core.export).

Files are made on click, not on every rerun: each button gets a callable for `data` (Streamlit's
deferred download, run in its own thread when the user clicks), so a page with ten charts renders
no image until one is asked for. The deck takes seconds, so it has a "Prepare" button with a
progress bar, and its files are kept in the session for that slice.

The static-export browser is started in the background the first time a page shows chart
download buttons (`warm_renderer`), so the first click does not wait for a browser start.

Page authors call:

    prov = downloads.view_provenance(view)                       # the slice's provenance
    downloads.chart_downloads(fig, provenance.for_survival(prov, analysis), "overall_survival")
    downloads.table_downloads(frame, prov.with_(analysis="Survival summary"), "survival_summary")
    downloads.table_downloads(listing, provenance.for_listing(prov, listing), "patients", row_level=True)
    downloads.slice_downloads(view, prov)
    downloads.deck_download(view, prov)

`chart_downloads` takes the figure `ui.figures.draw` returned (None = no chart, no buttons). Chart
files sit in a "Download chart" popover, with the choice of how much provenance the image shows;
table files are two small buttons under the table, or a "Download table" popover with
`presenter=True`, so a tumour-board screen shows no stray controls.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import export
from core.filters import FilterSpec
from core.provenance import DEFAULT_SUPPRESSION_THRESHOLD, Provenance, file_stem, slice_provenance
from core.queries import fetch_slice_rows
from core.text import markdown_text
from ui import figures

log = logging.getLogger(__name__)

SUPPRESSION_KEY = "export_suppress_small_counts"
SUPPRESSION_THRESHOLD_KEY = "export_suppression_threshold"

_CHART_FILES: tuple[tuple[str, str, str], ...] = (
    # (label, format, preset)
    ("PNG · slide", "png", "slide"),
    ("PNG · 1 column", "png", "journal_single"),
    ("PNG · 2 columns", "png", "journal_double"),
    ("SVG", "svg", "journal_double"),
    ("PDF", "pdf", "journal_double"),
)


def _slug(name: str) -> str:
    """A widget key's stem (file names come from core.provenance.file_stem)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "export"


def _preset_tag(preset: str) -> str:
    return preset.replace("_", "-")


# ------------------------------------------------------------------------------------ options
def export_options(container=None) -> int | None:  # type: ignore[no-untyped-def]
    """The small-cell suppression control; returns the threshold, or None when off."""
    where = container or st
    on = where.toggle("Suppress small counts in exports", key=SUPPRESSION_KEY,
                      help="Counts from 1 to the threshold − 1 are shown as \"<5\" in exported tables, "
                           "chart labels and the deck; patient-level exports are then not offered.")
    if not on:
        return None
    return int(where.number_input("Suppress counts below", min_value=2, max_value=100,
                                  value=DEFAULT_SUPPRESSION_THRESHOLD, step=1, key=SUPPRESSION_THRESHOLD_KEY))


def current_suppression() -> int | None:
    """The threshold chosen with `export_options` (None when off or not shown)."""
    if not st.session_state.get(SUPPRESSION_KEY):
        return None
    return int(st.session_state.get(SUPPRESSION_THRESHOLD_KEY, DEFAULT_SUPPRESSION_THRESHOLD))


def view_provenance(view, *, suppress_below: int | None | bool = True) -> Provenance:  # type: ignore[no-untyped-def]
    """The slice's provenance from a ui.frame.View; `True` takes the session's suppression option."""
    threshold = current_suppression() if suppress_below is True else (suppress_below or None)
    label = str(view.meta.get("label", "") or view.meta.get("title", "")) or view.ref.path.rsplit("/", 1)[-1]
    return slice_provenance(view.spec, n_slice=view.n, n_total=view.total, meta=view.meta, data_label=label,
                            suppress_below=threshold)


def cohort_provenance(view) -> Provenance:  # type: ignore[no-untyped-def]
    """The whole cohort's provenance, whatever the filters (for results always computed on all patients)."""
    return view_provenance(replace(view, spec=FilterSpec(), n=view.total))


# ------------------------------------------------------------------------------------ renderer
@st.cache_resource(show_spinner=False)
def _warm_thread() -> threading.Thread:
    def start() -> None:
        try:
            export.start_renderer()
        except Exception:  # reported when a user asks for an image; a warm-up never breaks a page
            log.exception("static export renderer did not start")
    thread = threading.Thread(target=start, name="static-export-warmup", daemon=True)
    thread.start()
    return thread


def warm_renderer() -> None:
    """Start the static-export browser in the background, once per process."""
    if export.export_available():
        _warm_thread()


def export_notice() -> bool:
    """Say once, quietly, when chart images cannot be made here; True when they can."""
    status = export.export_available()
    if not status:
        st.caption(f":material/image_not_supported: {markdown_text(status.message)}")
    return bool(status)


# ------------------------------------------------------------------------------------ charts
def _image_maker(fig: go.Figure, provenance: Provenance, fmt: str, preset: str,
                 stamp: export.Stamp = "block") -> Callable[[], bytes]:
    def make() -> bytes:
        return export.figure_image(figures.at_width(fig, export.PRESETS[preset].css_width), provenance, fmt, preset,
                                   stamp=stamp)
    return make


def _bundle_maker(fig: go.Figure, provenance: Provenance, fmt: str, preset: str, stamp: export.Stamp,
                  image_name: str, text_name: str) -> Callable[[], bytes]:
    make_image = _image_maker(fig, provenance, fmt, preset, stamp)

    def make() -> bytes:
        return export.image_zip(image_name, make_image(), provenance, text_name=text_name)
    return make


def chart_downloads(fig: go.Figure | None, provenance: Provenance, name: str, *, key: str | None = None,
                    row_level: bool = False) -> None:
    """PNG (slide, journal 1 and 2 columns, 300 dpi), SVG and PDF of one chart, with its provenance.

    The user chooses what the image shows of the provenance (the full block under the chart, one
    line, or the figure alone); every file carries the full record in its metadata. Without the
    block, the provenance is also offered as a .txt, alone or in a ZIP with each image.

    `fig` None (the chart could not be drawn) shows nothing. `row_level=True` marks a chart of
    individual patients (the swimmer plot): like the deck, it is not offered while small counts
    are suppressed.
    """
    if fig is None:
        return
    key = key or f"dl_chart_{_slug(name)}"
    if row_level and provenance.suppress_below is not None:
        st.caption(f"Charts of individual patients are not exported while small counts are suppressed "
                   f"(<{provenance.suppress_below}).")
        return
    if not export_notice():
        return
    warm_renderer()
    # No defensive copy (≈40 ms a chart on every rerun): figures from ui.figures.draw are shared,
    # cached objects that nobody changes, and core.export renders a copy with the provenance footer.
    figure = fig
    stem = file_stem(name, provenance.spec)
    text_name = f"{stem}_provenance.txt"
    with st.popover("Download chart", icon=":material/download:", key=f"{key}_menu"):
        st.caption("Rendered on the server when you click. Every file carries the slice, n, definitions "
                   "and the export date in its metadata.")
        stamp = st.radio("Provenance in the image", list(export.STAMPS), format_func=export.STAMPS.__getitem__,
                         key=f"{key}_stamp")
        bundle = stamp != "block" and st.toggle("Each image in a ZIP with the provenance .txt", key=f"{key}_bundle")
        for label, fmt, preset in _CHART_FILES:
            image_name = f"{stem}_{_preset_tag(preset)}.{fmt}"
            help_text = export.PRESETS[preset].label + (" at 300 dpi" if fmt == "png" else "")
            if bundle:
                st.download_button(
                    f"{label} + provenance (ZIP)",
                    data=_bundle_maker(figure, provenance, fmt, preset, stamp, image_name, text_name),
                    file_name=f"{stem}_{_preset_tag(preset)}_{fmt}.zip", mime=export.MIME_TYPES["zip"],
                    key=f"{key}_{fmt}_{preset}", on_click="ignore", width="stretch", help=help_text)
                continue
            st.download_button(
                label, data=_image_maker(figure, provenance, fmt, preset, stamp),
                file_name=image_name, mime=export.MIME_TYPES[fmt],
                key=f"{key}_{fmt}_{preset}", on_click="ignore", width="stretch", help=help_text)
        if stamp != "block":
            st.download_button("Provenance · TXT", data=provenance.text_file().encode("utf-8"), file_name=text_name,
                               mime=export.MIME_TYPES["txt"], key=f"{key}_txt", on_click="ignore", width="stretch",
                               help="The full provenance of these images as a text file")


# ------------------------------------------------------------------------------------ tables
def table_downloads(frame: pd.DataFrame, provenance: Provenance, name: str, *, row_level: bool = False,
                    key: str | None = None, presenter: bool = False) -> None:
    """CSV and XLSX of a table, with the provenance block (and suppression, when it is on).

    Two small buttons in a row; with `presenter=True` they are tucked into a "Download table" popover.
    """
    key = key or f"dl_table_{_slug(name)}"
    if row_level and provenance.suppress_below is not None:
        st.caption(f"Patient-level rows are not exported while small counts are suppressed "
                   f"(<{provenance.suppress_below}).")
        return
    if frame.empty:
        return
    table = frame.copy()
    stem = file_stem(name, provenance.spec)
    files = (("CSV", lambda: export.table_csv(table, provenance, row_level=row_level), "csv"),
             ("XLSX", lambda: export.table_xlsx(table, provenance, sheet=name, row_level=row_level), "xlsx"))
    if presenter:
        place = st.popover("Download table", icon=":material/download:", key=f"{key}_menu")
    else:
        place = st.container(horizontal=True, gap="small")
    with place:
        for label, data, fmt in files:
            st.download_button(label, data=data, file_name=f"{stem}.{fmt}", mime=export.MIME_TYPES[fmt],
                               key=f"{key}_{fmt}", on_click="ignore", icon=":material/download:",
                               help=f"{label} with the slice, n and definitions above the table",
                               width="stretch" if presenter else "content")


def slice_rows(cohort, spec: FilterSpec) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """The slice's patients and events rows in one fixed order, whatever order the database gives.

    Patients by id; events by every column in the contract's order (patient, date, type, cycle,
    day, then the rest), so tied rows — two adverse events on one day — always come out alike.
    """
    patients, events = fetch_slice_rows(cohort, spec)
    return (patients.sort_values("patient_id", kind="stable", ignore_index=True),
            events.sort_values(list(events.columns), kind="stable", na_position="last", ignore_index=True))


def slice_downloads(view, provenance: Provenance, *, key: str = "dl_slice") -> None:  # type: ignore[no-untyped-def]
    """The slice's patients and events rows in the import format (ZIP of CSVs, or XLSX)."""
    if provenance.suppress_below is not None:
        st.caption("The slice's patient rows are not exported while small counts are suppressed.")
        return
    cohort, spec = view.cohort, view.spec

    def rows() -> tuple[pd.DataFrame, pd.DataFrame]:
        return slice_rows(cohort, spec)

    stem = file_stem("Slice data", spec)
    row = st.container(horizontal=True, gap="small")
    row.download_button("Slice data · CSV (ZIP)", data=lambda: export.slice_data_zip(*rows(), provenance),
                        file_name=f"{stem}.zip", mime=export.MIME_TYPES["zip"], key=f"{key}_zip",
                        on_click="ignore", icon=":material/download:",
                        help="patients.csv and events.csv in the import format, and PROVENANCE.txt")
    row.download_button("Slice data · XLSX", data=lambda: export.slice_data_xlsx(*rows(), provenance),
                        file_name=f"{stem}.xlsx", mime=export.MIME_TYPES["xlsx"], key=f"{key}_xlsx",
                        on_click="ignore", icon=":material/download:",
                        help="Sheets patients and events in the import format, and readme")


# ------------------------------------------------------------------------------------ deck
def _deck_state_key(provenance: Provenance) -> str:
    digest = hashlib.sha1(repr((provenance.slice_text, provenance.n_slice, provenance.n_total,
                                provenance.data_label, provenance.suppress_below,
                                provenance.exported_on)).encode()).hexdigest()[:12]
    return f"_deck_{digest}"


def _request_deck(flag: str) -> None:
    st.session_state[flag] = True


def deck_download(view, provenance: Provenance, *, key: str = "dl_deck") -> None:  # type: ignore[no-untyped-def]
    """Prepare the tumour-board deck (PPTX and PDF) with a progress bar, then offer both files."""
    state_key = _deck_state_key(provenance)
    requested = f"{key}_requested"
    # The click is recorded by a callback, not read from the button's return value: a rerun that
    # starts before this line (a page routed through app.py first) would otherwise lose it.
    st.button("Prepare tumour-board deck", key=f"{key}_prepare", icon=":material/slideshow:",
              on_click=_request_deck, args=(requested,))
    if st.session_state.pop(requested, False):
        bar = st.progress(0.0, text="Starting")
        try:
            files = export.build_deck(view.cohort, view.spec, provenance,
                                      on_progress=lambda f, m: bar.progress(f, text=m))
        except (export.StaticExportUnavailable, export.ExportRenderError) as exc:
            bar.empty()
            st.error(markdown_text(exc))
            return
        bar.empty()
        st.session_state[state_key] = files
    files = st.session_state.get(state_key)
    if files is None:
        return
    stem = file_stem("Tumour board", provenance.spec)
    row = st.container(horizontal=True, gap="small")
    row.download_button("Deck · PowerPoint", data=files.pptx, file_name=f"{stem}.pptx",
                        mime=export.MIME_TYPES["pptx"], key=f"{key}_pptx", on_click="ignore",
                        icon=":material/download:")
    if files.pdf is not None:
        row.download_button("Deck · PDF", data=files.pdf, file_name=f"{stem}.pdf",
                            mime=export.MIME_TYPES["pdf"], key=f"{key}_pdf", on_click="ignore",
                            icon=":material/download:")
    else:
        row.caption(markdown_text(files.pdf_message))
