"""What every page shares: the active view, the header under the title, captions, error display.

`View` is built once per run in app.py (after the sidebar) and read by the page script through
`current_view()`. `chart_caption(view)` is the ONE place a chart's caption is made: the slice in
words, its n, and the reconstructed-cohort warning when it applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from core.database import Cohort, CohortError
from core.filters import FilterSpec
from core.results import TooFewPatients
from ui import downloads, loaders
from ui.loaders import CohortRef
from ui.url_state import UrlNotice

_VIEW_KEY = "_view"
RECONSTRUCTED_TAG = "Reconstructed cohort — not real patient data"


@dataclass(frozen=True)
class View:
    ref: CohortRef
    spec: FilterSpec
    presenter: bool
    n: int                    # patients in the slice
    total: int                # patients in the cohort
    meta: dict[str, str]
    notices: tuple[str, ...]  # URL / filter problems to show under the title

    @property
    def reconstructed(self) -> bool:
        return str(self.meta.get("reconstructed", "")).strip().lower() == "true"

    @property
    def slice_text(self) -> str:
        """"Salvage 2–3 · blasts ≥ 50% · n = 11 of 32" (or "All patients · n = 32")."""
        words = self.spec.describe()
        if self.spec.is_default() and self.n == self.total:
            return f"{words} · n = {self.n}"
        return f"{words} · n = {self.n} of {self.total}"

    @property
    def cohort(self) -> Cohort:
        return loaders.cohort(self.ref)


def set_current_view(view: View) -> None:
    st.session_state[_VIEW_KEY] = view


def clear_current_view() -> None:
    st.session_state.pop(_VIEW_KEY, None)


def current_view() -> View:
    """The view app.py set up in this run; a page run without app.py is rerouted through it."""
    view = st.session_state.get(_VIEW_KEY)
    if view is None:
        from ui.navigation import recover

        recover()
    return view


def chart_caption(view: View) -> str:
    """The caption stamped on every chart: slice in words + n (+ reconstructed-cohort warning)."""
    text = view.slice_text
    if view.reconstructed:
        text += f" · {RECONSTRUCTED_TAG}"
    return text


# ---------------------------------------------------------------------------------- page header
def page_header(title: str, view: View, *, intro: str | None = None) -> None:
    """Title, the slice in words with its n, the reconstructed-cohort banner and URL notices.

    Every page runs it, so it also starts the static-export browser (once per process, in the
    background) before anyone asks for a chart image.
    """
    downloads.warm_renderer()
    st.title(title)
    st.markdown(f"**{escape_markdown(view.slice_text)}**")
    if view.reconstructed:
        label = view.meta.get("label", "Reconstructed cohort")
        disclaimer = view.meta.get("disclaimer", "Reconstructed from published aggregates; not real patient data.")
        st.info(f"**{escape_markdown(label)}** — {escape_markdown(disclaimer)}", icon=":material/info:")
    for notice in view.notices:
        st.warning(escape_markdown(notice), icon=":material/warning:")
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
    (container or st).info(escape_markdown(result.reason), icon=":material/functions:")


def show_cohort_error(exc: CohortError) -> None:
    st.error(f"**{escape_markdown(exc.message)}**\n\n{escape_markdown(exc.hint)}" if exc.hint
             else f"**{escape_markdown(exc.message)}**", icon=":material/error:")


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


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|<>~$])")


def escape_markdown(text: str) -> str:
    """Text shown verbatim (URL values, file paths, labels): no markdown, no HTML."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))
