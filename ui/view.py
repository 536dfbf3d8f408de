"""The view a page draws: the cohort, the slice, presenter mode, n, and the caption on every chart.

`View` is built once per run in app.py (after the sidebar) and read by the page script through
`current_view()`. `chart_caption(view)` is the ONE place a chart's caption is made: the slice in
words, its n, and the reconstructed-cohort warning when it applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.database import Cohort
from core.filters import FilterSpec
from core.provenance import RECONSTRUCTED_TAG, is_reconstructed
from ui import loaders
from ui.loaders import CohortRef
from ui.navigation import recover

_VIEW_KEY = "_view"


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
        return is_reconstructed(self.meta)

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
        recover()
    return view


def chart_caption(view: View) -> str:
    """The caption stamped on every chart: slice in words + n (+ reconstructed-cohort warning)."""
    text = view.slice_text
    if view.reconstructed:
        text += f" · {RECONSTRUCTED_TAG}"
    return text
