"""What every page shares: the header under the title, messages, error display, layout.

The view itself (`View`, `current_view()`, `chart_caption()`) lives in ui.view; it is re-exported
here because every page reads it through this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.database import CohortError
from core.results import TooFewPatients
from core.text import markdown_text
from ui import downloads
from ui.url_state import UrlNotice
from ui.view import View, chart_caption, clear_current_view, current_view, set_current_view

__all__ = ["View", "chart_caption", "clear_current_view", "current_view", "set_current_view"]

def route_through_app() -> None:
    """A page that needs no slice, opened by a direct link on a fresh server: hand routing to app.py
    so the sidebar and the cohort picker are drawn (a page run on its own, as a test harness does,
    has no app to hand over to and draws as it is)."""
    if st.session_state.get("_view") is not None:
        return
    from streamlit.errors import StreamlitAPIException

    from ui.navigation import recover
    try:
        recover()
    except StreamlitAPIException:
        return


# ---------------------------------------------------------------------------------- page header
def page_header(title: str, view: View, *, intro: str | None = None) -> None:
    """Title, the slice in words with its n, the reconstructed-cohort banner and URL notices.

    Every page runs it, so it also starts the static-export browser (once per process, in the
    background) before anyone asks for a chart image.
    """
    downloads.warm_renderer()
    st.title(title)
    st.markdown(f"**{markdown_text(view.slice_text)}**")
    if view.reconstructed:
        label = view.meta.get("label", "Reconstructed cohort")
        disclaimer = view.meta.get("disclaimer", "Reconstructed from published aggregates; not real patient data.")
        st.info(f"**{markdown_text(label)}** — {markdown_text(disclaimer)}", icon=":material/info:")
    for notice in view.notices:
        st.warning(markdown_text(notice), icon=":material/warning:")
    if intro:
        st.caption(intro)


def require_patients(view: View) -> bool:
    """False (with a friendly message) when the slice is empty; the page then stops drawing."""
    if view.n > 0:
        return True
    st.info("No patients match these filters. Widen a filter in the sidebar, or use **Reset all filters**.",
            icon=":material/search_off:")
    return False


def too_few(result: TooFewPatients, *, container=None) -> None:  # type: ignore[no-untyped-def]
    (container or st).info(markdown_text(result.reason), icon=":material/functions:")


def show_cohort_error(exc: CohortError) -> None:
    st.error(f"**{markdown_text(exc.message)}**\n\n{markdown_text(exc.hint)}" if exc.hint
             else f"**{markdown_text(exc.message)}**", icon=":material/error:")


def show_unexpected_error(exc: Exception) -> None:
    st.error("Something went wrong drawing this page. The other pages still work; "
             "try another slice, or reset the filters.", icon=":material/error:")
    with st.expander("Technical details"):
        st.code(f"{type(exc).__name__}: {exc}")


def notice_texts(notices: tuple[UrlNotice, ...]) -> tuple[str, ...]:
    return tuple(n.message for n in notices)


# ---------------------------------------------------------------------------------- layout
@contextmanager
def options_area(view: View, label: str = "Chart options") -> Iterator[None]:
    """Page-level controls: a row in normal mode, tucked into an expander in presenter mode."""
    if view.presenter:
        with st.expander(label, expanded=False):
            yield
    else:
        with st.container():
            yield


def chart_and_table(view: View, ratio: tuple[int, int] = (3, 2)):  # type: ignore[no-untyped-def]
    """Two containers: side by side in normal mode, stacked full width in presenter mode."""
    if view.presenter:
        return st.container(), st.container()
    return st.columns(list(ratio), gap="large")


def apply_presenter_style(presenter: bool) -> None:
    """Presenter mode: large, high-contrast type for text and tables (charts get it from core.charts)."""
    if not presenter:
        return
    st.markdown(
        """
        <style>
        [data-testid="stMain"] { font-size: 20px; color: #000; }
        [data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
        [data-testid="stMain"] [data-testid="stMarkdownContainer"] li,
        [data-testid="stMain"] [data-testid="stCaptionContainer"] { font-size: 21px !important; color: #000 !important; }
        [data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 19px !important; color: #222 !important; }
        [data-testid="stMain"] h2, [data-testid="stMain"] h2 * { font-size: 32px !important; }
        [data-testid="stMain"] [data-testid="stMetric"] [data-testid="stMetricValue"],
        [data-testid="stMain"] [data-testid="stMetric"] [data-testid="stMetricValue"] *
            { font-size: 48px !important; line-height: 1.2 !important; color: #000 !important; }
        [data-testid="stMain"] [data-testid="stMetric"] [data-testid="stMetricLabel"],
        [data-testid="stMain"] [data-testid="stMetric"] [data-testid="stMetricLabel"] *
            { font-size: 21px !important; font-weight: 600; color: #000 !important; }
        [data-testid="stMain"] [data-testid="stTable"] table td, [data-testid="stMain"] [data-testid="stTable"] table th,
        [data-testid="stMain"] [data-testid="stTable"] table td *, [data-testid="stMain"] [data-testid="stTable"] table th *
            { font-size: 20px !important; color: #000 !important; }
        [data-testid="stMain"] h1 { font-size: 48px !important; }
        </style>
        """,
        unsafe_allow_html=True,
    )
