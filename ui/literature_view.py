"""The literature on the pages: published figures, Table 9, the discrepancies, overlays, comparable slices.

Every published figure shown here carries `PUBLISHED_LABEL` ("Published, not randomised against
this cohort; populations differ") and its citation. Pages call:

    literature_view.reference_section(view)                 # the reference table, filtered by study/endpoint
    literature_view.table9_section(view)                    # Table 9 as printed beside what its sources support
    literature_view.discrepancies_section(view)             # what the paper quotes that its sources do not support
    literature_view.comparable_slices_section(view)         # one tab per study: criteria, figures, "Apply"
    rates = literature_view.overlay_control(view)           # Response page: None (off) or PublishedRates
    literature_view.published_cr_cri_table(view, rates)     # beside the forest chart
    points = literature_view.os_overlay_control(view)       # Survival page: None (off) or PublishedPoints
    literature_view.published_os_table(view, points)        # beside the Kaplan–Meier table
    chosen = literature_view.safety_overlay_control(view)    # Safety page: None (off) or study keys
    literature_view.published_safety_table(view, chosen)    # VOD and HSCT rates, beside the Safety tables

Each overlay is switched by a pair of widgets (none / all / chosen studies, and the studies), whose
keys are page choices a link carries (ui.page_state.PAGE_OPTIONS).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from core.contract import DEFAULT_BLAST_THRESHOLD
from core.endpoints import endpoint
from core.filters import FilterSpec
from core.literature import PUBLISHED_LABEL, PublishedRates, comparable_slices, published_cr_cri, studies
from core.literature.comparison import PublishedPoint, endpoint_words, overlay_studies, published_survival_points
from core.literature.eligibility import ComparableSlice, Criterion
from core.literature.frames import (
    discrepancies_frame,
    published_cr_cri_frame,
    published_points_frame,
    published_rates_frame,
    reference_frame,
    side_by_side_frame,
    table9_differences_frame,
    table9_frame,
)
from core.literature.reference import read_reference
from core.queries import fetch_measures
from core.survival import SurvivalCurve
from core.text import markdown_text
from ui import display, downloads, loaders, page_state, sidebar
from ui.loaders import CohortRef
from ui.view import View

OVERLAY_CHOICES = {"off": "None", "all": "All studies", "chosen": "Chosen studies"}


@dataclass(frozen=True)
class Overlay:
    """Published figures a page can show beside its own: which, and the widgets that switch them."""

    label: str                       # the switch's label
    endpoints: tuple[str, ...]       # reference-table endpoints whose studies are offered
    mode_key: str                    # widget key: "off", "all" or "chosen"
    studies_key: str                 # widget key: the chosen study keys

    def studies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k for e in self.endpoints for k in overlay_studies(e)))


CR_CRI_OVERLAY = Overlay("Published CR/CRi on the chart", ("cr_cri",), "l_overlay", "l_studies")
OS_OVERLAY = Overlay("Published OS on the chart", ("os_median", "os_rate"), "l_os_overlay", "l_os_studies")
SAFETY_OVERLAY = Overlay("Studies to show", ("vod", "hsct_rate"), "l_safety_overlay",
                         "l_safety_studies")
OVERLAYS = (CR_CRI_OVERLAY, OS_OVERLAY, SAFETY_OVERLAY)
PAPER = "Agrawal et al., 2025 (Frontiers in Oncology, doi:10.3389/fonc.2025.1601782)"
_APPLIED_KEY = "_l_applied"


def published_caption(extra: str = "") -> None:
    """The label every view of published figures carries."""
    st.caption(f"**{markdown_text(PUBLISHED_LABEL)}.** {markdown_text(extra)}".strip())


def _study_label(key: str) -> str:
    found = {s.key: s.label for s in studies()}
    return found.get(key, key)


def _provenance(view: View, analysis: str, what: str):  # type: ignore[no-untyped-def]
    return downloads.view_provenance(view).with_(analysis=f"{analysis} — {PUBLISHED_LABEL}", endpoint=what)


# ---------------------------------------------------------------------------------------------- reference
def reference_section(view: View) -> None:
    """The reference table, filtered by study and endpoint, each row with its source."""
    c1, c2 = st.columns(2)
    keys = [s.key for s in studies()]
    chosen = c1.multiselect("Study", keys, key="l_ref_studies", format_func=_study_label, placeholder="All studies")
    endpoints = list(dict.fromkeys(f.endpoint for f in read_reference()))
    picked = c2.multiselect("Figure", endpoints, key="l_ref_endpoints", format_func=endpoint_words,
                            placeholder="All figures")
    table = reference_frame(studies=chosen or None, endpoints=picked or None)
    published_caption("Each row names its source and how it was checked; a CI method reads 'not stated' when "
                      "the source does not state it.")
    display.table(table, view, key="l_reference_table")
    downloads.table_downloads(table, _provenance(view, "Published figures (reference table)",
                                                 "as each source defines it (Definition column)"),
                              "Published figures", presenter=view.presenter)


def table9_section(view: View) -> None:
    """Table 9 as printed beside the version its sources support: the cells that differ, then both tables."""
    differences = table9_differences_frame()
    st.markdown(f"Table 9 of {markdown_text(PAPER)}, cell by cell: **{len(differences)}** cells print a figure "
                "their sources do not support.")
    display.table(differences, view, static=True, key="l_table9_differences")
    published_caption("Discrepancy ids refer to the list below, where the evidence is given.")
    downloads.table_downloads(differences, _provenance(view, "Table 9: cells the sources do not support",
                                                       "Table 9 of the paper and the reference table"),
                              "Table 9 differences", presenter=view.presenter)
    printed, supported = st.tabs(["Table 9 as printed", "Table 9 as its sources support"])
    for tab, as_printed, name in ((printed, True, "Table 9 as printed"),
                                  (supported, False, "Table 9 as its sources support")):
        with tab:
            table = table9_frame(as_printed=as_printed)
            display.table(table, view, static=True, key=f"l_table9_{'printed' if as_printed else 'supported'}")
            published_caption("'—' = not reported. Figures of other studies; the last row is the paper's own cohort.")
            downloads.table_downloads(table, _provenance(view, name, "Table 9 of the paper"), name,
                                      presenter=view.presenter)


def discrepancies_section(view: View, *, key: str = "l_discrepancies") -> None:
    """What the paper quotes that its sources do not support, with the evidence (also for the Paper check page)."""
    table = discrepancies_frame()
    st.markdown(f"**{len(table)}** figures the paper quotes are not what their sources say. A figure that could "
                "not be checked is not listed here: it stays in the reference table, marked as the paper quotes it.")
    display.table(table, view, static=True, key=key)
    published_caption("Evidence gives the figures and the arithmetic; Sources cite where they were read.")
    downloads.table_downloads(table, _provenance(view, "Discrepancies between the paper and its sources",
                                                 "each row's evidence"), "Discrepancies",
                              key=f"dl_table_{key}", presenter=view.presenter)


# ---------------------------------------------------------------------------------------------- overlays
@st.cache_data(show_spinner=False, max_entries=64)
def load_published_cr_cri(chosen: tuple[str, ...] | None) -> PublishedRates:
    return published_cr_cri(chosen)


def chosen_studies(overlay: Overlay) -> tuple[str, ...] | None:
    """The overlay's switch and study picker; the studies to show (all of them for "all"), None = off."""
    page_state.set_defaults(overlay.mode_key, overlay.studies_key)
    c1, c2 = st.columns([2, 3])
    mode = c1.radio(overlay.label, list(OVERLAY_CHOICES), key=overlay.mode_key, horizontal=True,
                    format_func=OVERLAY_CHOICES.get,
                    help="Figures of other studies, as published: not randomised against this cohort, and "
                         "their populations differ.")
    chosen = c2.multiselect("Studies", list(overlay.studies()), key=overlay.studies_key, format_func=_study_label,
                            disabled=mode != "chosen", placeholder="Choose studies")
    if mode == "off":
        return None
    return overlay.studies() if mode == "all" else tuple(chosen)


def overlay_control(view: View) -> PublishedRates | None:
    """Published CR/CRi on the forest chart: none, every study's, or the chosen studies'. None = off."""
    chosen = chosen_studies(CR_CRI_OVERLAY)
    if chosen is None:
        return None
    return load_published_cr_cri(None if st.session_state.get(CR_CRI_OVERLAY.mode_key) == "all" else chosen)


def os_overlay_control(view: View) -> tuple[PublishedPoint, ...] | None:
    """Published median and milestone OS as points on the Kaplan–Meier chart. None = off."""
    chosen = chosen_studies(OS_OVERLAY)
    return None if chosen is None else published_survival_points(chosen)


def published_os_table(view: View, points: tuple[PublishedPoint, ...]) -> None:
    """The published OS points drawn on the chart, each with its CI and source."""
    if not points:
        st.caption("No published overall survival of a whole InO arm for the chosen studies.")
        return
    table = published_points_frame(points)
    display.table(table, view, static=True, key="l_published_os")
    published_caption("Overall survival as each source defines it; points beyond the time axis are listed under "
                      "the chart.")
    downloads.table_downloads(table, _provenance(view, "Published overall survival of InO-treated patients",
                                                 "overall survival as each source defines it"),
                              "Published OS", key="dl_table_l_published_os", presenter=view.presenter)


def published_cr_cri_table(view: View, rates: PublishedRates) -> None:
    """The published rows of the forest chart, with their CI's source and the figures not drawn."""
    if not rates.rows and not rates.not_drawn:
        st.caption("No published CR/CRi for the chosen studies.")
        return
    table = published_cr_cri_frame(rates.figures)
    display.table(table, view, static=True, key="l_published_cr_cri")
    notes = [f"Not drawn: {n.describe()}." for n in rates.not_drawn]
    published_caption(" ".join(notes))
    downloads.table_downloads(table, _provenance(view, "Published CR/CRi of InO-treated patients",
                                                 "CR/CRi as each source defines it (Definition column)"),
                              "Published CR-CRi", presenter=view.presenter)


def safety_overlay_control(view: View) -> tuple[str, ...] | None:
    """Which studies' published VOD/SOS and HSCT rates to show beside the Safety tables. None = off."""
    return chosen_studies(SAFETY_OVERLAY)


def published_safety_table(view: View, chosen: tuple[str, ...]) -> None:
    """Published VOD/SOS and HSCT rates of InO-treated patients of the chosen studies."""
    table = published_rates_frame(("vod", "hsct_rate"), chosen)
    if table.empty:
        st.caption("No published VOD/SOS or HSCT rates for the chosen studies.")
        return
    display.table(table, view, static=True, key="l_published_safety")
    published_caption("Each row has its own definition and denominator (VOD after HSCT among the transplanted is "
                      "not VOD among all treated).")
    downloads.table_downloads(table, _provenance(view, "Published VOD/SOS and HSCT rates",
                                                 "as each source defines it (Definition column)"),
                              "Published VOD and HSCT", key="dl_table_l_published_safety", presenter=view.presenter)


# ---------------------------------------------------------------------------------------------- comparable slices
@dataclass(frozen=True)
class _CohortFigures:
    n: int
    by_endpoint: dict[str, tuple[str, str]]     # endpoint key → (the cohort's figure, its definition)


@st.cache_data(show_spinner=False, max_entries=64)
def load_cohort_figures(ref: CohortRef, spec: FilterSpec) -> _CohortFigures:
    """CR/CRi, median OS, VOD and HSCT of a slice, in words, for the side-by-side table."""
    n = loaders.load_slice_size(ref, spec)
    if n == 0:
        empty = "no patients in this slice"
        return _CohortFigures(0, {k: (empty, "") for k in ("cr_cri", "os_median", "vod", "hsct_rate")})
    cr = loaders.load_cr_cri(ref, spec)
    curve = loaders.load_survival(ref, spec, "os").curves[0]
    os_text = (f"{display.median_text(curve.median, curve)} (n = {curve.n})" if isinstance(curve, SurvivalCurve)
               else curve.reason)
    vod = next((r.overall for r in loaders.load_toxicity_by_hsct(ref, spec).rows if r.key == "vod"), None)
    hsct = loaders.load_response_summary(ref, spec).hsct
    return _CohortFigures(n, {
        "cr_cri": (display.proportion_text(cr), endpoint("cr_cri").definition()),
        "os_median": (os_text, endpoint("os").definition()),
        "vod": (display.proportion_text(vod) if vod is not None else display.DASH,
                f"{endpoint('vod').definition()}; denominator: all patients in the slice"),
        "hsct_rate": (display.proportion_text(hsct), endpoint("hsct_rate").definition()),
    })


@st.cache_data(show_spinner=False, max_entries=256)
def load_measures(ref: CohortRef, spec: FilterSpec, measures: tuple[str, ...]) -> dict[str, int]:
    frame = fetch_measures(loaders.cohort(ref), spec, ("n", *measures))
    if frame.empty:
        return {m: 0 for m in ("n", *measures)}
    return {m: int(frame[m].iloc[0] or 0) for m in ("n", *measures)}


def _applied_spec(view: View, spec: FilterSpec) -> FilterSpec:
    """The slice as the sidebar would hold it: the user's blast threshold kept (it selects no one here)."""
    threshold = float(st.session_state.get("f_blast_threshold") or DEFAULT_BLAST_THRESHOLD)
    return replace(spec, blast_threshold=threshold)


def apply_slice(ref: CohortRef, spec: FilterSpec, title: str) -> None:
    """Callback: every sidebar filter set to `spec` (the sidebar reads its `f_*` keys on the rerun)."""
    bounds = sidebar.bounds_for(loaders.load_extent(ref))
    for name, value in sidebar.state_from_spec(spec, bounds).items():
        st.session_state[name] = value
    st.session_state[_APPLIED_KEY] = title


def _criterion_line(criterion: Criterion, counts: dict[str, int] | None) -> str:
    mark = ":material/check:" if criterion.matched else ":material/close:"
    unchecked = " *(not re-read in a retrieved source)*" if not criterion.checked else ""
    line = f"{mark} **{markdown_text(criterion.text)}**{unchecked} — {markdown_text(criterion.how)}"
    if counts is not None and criterion.count_text:
        line += f". {markdown_text(criterion.count_text.format(**counts))}"
    return line


def comparable_slices_section(view: View) -> None:
    """A tab per study: its eligibility as a slice, what cannot be matched and why, its figures beside ours."""
    applied = st.session_state.pop(_APPLIED_KEY, None)
    if applied:
        st.success(f"Applied the comparable slice of {markdown_text(applied)} to the sidebar: every page now "
                   "shows it.", icon=":material/filter_alt:")
    slices = comparable_slices(salvage_lines=loaders.load_extent(view.ref).salvage_lines or (1, 2, 3))
    for tab, found in zip(st.tabs([s.title.split(" (")[0] for s in slices]), slices):
        with tab:
            _comparable_slice(view, found)


def _comparable_slice(view: View, found: ComparableSlice) -> None:
    spec = _applied_spec(view, found.spec)
    figures = load_cohort_figures(view.ref, spec)
    st.markdown(f"**{markdown_text(found.title)}** — {markdown_text(found.population)}. "
                f"Comparable slice of this cohort: **{markdown_text(spec.describe())} · n = {figures.n}**.")
    measures = tuple(dict.fromkeys(m for c in found.unmatched for m in c.measures))
    counts = load_measures(view.ref, spec, measures) if measures else {"n": figures.n}
    left, right = st.columns(2)
    with left:
        st.markdown("**Criteria the slice applies**")
        for criterion in found.matched:
            st.markdown(_criterion_line(criterion, None))
    with right:
        st.markdown("**Criteria it cannot apply**")
        if not found.unmatched:
            st.caption("None stated.")
        for criterion in found.unmatched:
            st.markdown(_criterion_line(criterion, counts))
    for note in found.notes:
        st.caption(markdown_text(note))
    table = side_by_side_frame(found.study_keys, figures.by_endpoint)
    display.table(table, view, static=True, key=f"l_side_by_side_{found.key}")
    published_caption("Published figures of the study's InO arm beside this cohort's comparable slice; "
                      "definitions differ where the columns say so.")
    prov = downloads.view_provenance(replace(view, spec=spec, n=figures.n)).with_(
        analysis=f"{found.title} beside this cohort's comparable slice — {PUBLISHED_LABEL}",
        endpoint="each figure as its definition column states")
    downloads.table_downloads(table, prov, f"{found.key} beside the cohort", presenter=view.presenter)
    same = view.spec == spec
    st.button("Applied to the sidebar" if same else "Apply this slice to the sidebar", key=f"l_apply_{found.key}",
              icon=":material/filter_alt:", disabled=same, on_click=apply_slice, args=(view.ref, spec, found.title),
              help="Sets every sidebar filter to this slice (the others back to all patients), so every page "
                   "shows the study's population as far as this cohort allows.")
    if found.applies_nothing:
        st.caption("No criterion narrows this cohort: the slice is all patients.")

