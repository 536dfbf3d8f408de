"""The one filter sidebar every page shares: widgets ↔ session state ↔ FilterSpec ↔ URL.

Each widget has a stable key (tests set them by key):

    f_salvage  f_blast  f_blast_threshold  f_dose_group  f_dose_range  f_hsct  f_age
    f_sex  f_centre  f_ph  f_status  f_emd  f_missing  presenter     (and the button f_reset)

At the bottom, a collapsed "Export options" expander holds the small-count suppression control
(`ui.downloads.export_options`; keys export_suppress_small_counts, export_suppression_threshold).

On a session's first run the keys are filled from the URL (`ui.url_state.parse_query_params`);
on every run the active view is written back to the URL, so a view can be bookmarked and shared.
A link's value the widgets cannot show as given (beyond a slider's end, between its steps) is
clamped, and the change gets a notice of its own, so a shared link never shows another slice unsaid.
Each option shows how many patients it would hold given the other filters (faceted counts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import streamlit as st

from core.contract import DEFAULT_BLAST_THRESHOLD, DISEASE_STATUSES, DOSE_GROUPS, PH_STATUSES, SEXES
from core.filters import DOSE_GROUP_LABELS, FilterError, FilterSpec
from core.text import markdown_text
from ui import downloads, loaders
from ui.loaders import CohortExtent, CohortRef
from ui.url_state import (
    PARAM_FIELDS,
    CohortVocabulary,
    UrlNotice,
    parse_query_params,
    spec_to_query_params,
    value_in_words,
)

PRESENTER_KEY = "presenter"
_URL_LOADED = "_url_loaded"
_URL_SPEC = "_url_spec"
_URL_NOTICES = "_url_notices"

BLAST_THRESHOLD_LIMITS = (1.0, 99.0)   # what the threshold box accepts, in %
_YES_NO = ("all", "yes", "no")
_SEX_LABELS = {"F": "Female", "M": "Male"}


@dataclass(frozen=True)
class Bounds:
    """Slider ends, from the whole cohort (fixed, so the widgets keep their identity)."""

    age: tuple[float, float]
    dose: tuple[float, float]


def bounds_for(extent: CohortExtent) -> Bounds:
    age_lo = math.floor(extent.age_min) if extent.age_min is not None else 18.0
    age_hi = math.ceil(extent.age_max) if extent.age_max is not None else 100.0
    if age_hi <= age_lo:
        age_hi = age_lo + 1
    dose_lo = math.floor(extent.dose_min * 10) / 10 if extent.dose_min is not None else 0.0
    dose_hi = math.ceil(extent.dose_max * 10) / 10 if extent.dose_max is not None else 3.0
    if dose_hi <= dose_lo:
        dose_lo, dose_hi = round(dose_lo - 0.1, 1), round(dose_hi + 0.1, 1)
    return Bounds(age=(float(age_lo), float(age_hi)), dose=(max(0.0, dose_lo), dose_hi))


# ---------------------------------------------------------------------------------- state ↔ spec
def state_from_spec(spec: FilterSpec, bounds: Bounds) -> dict[str, object]:
    """Widget values (by key) that show `spec`."""
    def clamp(value: float | None, lo: float, hi: float, default: float) -> float:
        return default if value is None else float(min(max(value, lo), hi))

    age = (clamp(spec.age_min, *bounds.age, bounds.age[0]), clamp(spec.age_max, *bounds.age, bounds.age[1]))
    dose = (round(clamp(spec.dose_min_mg_m2, *bounds.dose, bounds.dose[0]), 1),
            round(clamp(spec.dose_max_mg_m2, *bounds.dose, bounds.dose[1]), 1))
    return {
        "f_salvage": list(spec.salvage_lines),
        "f_blast": spec.blast_burden,
        "f_blast_threshold": clamp(spec.blast_threshold, *BLAST_THRESHOLD_LIMITS, DEFAULT_BLAST_THRESHOLD),
        "f_dose_group": list(spec.dose_groups),
        "f_dose_range": dose,
        "f_hsct": _from_bool(spec.hsct),
        "f_age": (float(round(age[0])), float(round(age[1]))),
        "f_sex": list(spec.sexes),
        "f_centre": list(spec.centres),
        "f_ph": list(spec.ph_statuses),
        "f_status": list(spec.disease_statuses),
        "f_emd": _from_bool(spec.emd_baseline),
        "f_missing": bool(spec.include_missing),
    }


def spec_from_state(state: dict[str, object], bounds: Bounds) -> FilterSpec:
    """The FilterSpec the widgets show. A slider at its end means "no limit" on that side."""
    age = tuple(state.get("f_age") or bounds.age)
    dose = tuple(state.get("f_dose_range") or bounds.dose)
    return FilterSpec(
        salvage_lines=tuple(sorted(int(v) for v in state.get("f_salvage") or ())),
        blast_burden=str(state.get("f_blast") or "all"),  # type: ignore[arg-type]
        blast_threshold=float(state.get("f_blast_threshold") or DEFAULT_BLAST_THRESHOLD),
        dose_groups=tuple(g for g in DOSE_GROUPS if g in (state.get("f_dose_group") or ())),
        dose_min_mg_m2=None if float(dose[0]) <= bounds.dose[0] else round(float(dose[0]), 2),
        dose_max_mg_m2=None if float(dose[1]) >= bounds.dose[1] else round(float(dose[1]), 2),
        hsct=_to_bool(state.get("f_hsct")),
        age_min=None if float(age[0]) <= bounds.age[0] else float(age[0]),
        age_max=None if float(age[1]) >= bounds.age[1] else float(age[1]),
        sexes=tuple(s for s in SEXES if s in (state.get("f_sex") or ())),
        centres=tuple(str(c) for c in state.get("f_centre") or ()),
        ph_statuses=tuple(p for p in PH_STATUSES if p in (state.get("f_ph") or ())),
        disease_statuses=tuple(s for s in DISEASE_STATUSES if s in (state.get("f_status") or ())),
        emd_baseline=_to_bool(state.get("f_emd")),
        include_missing=bool(state.get("f_missing", True)),
    )


# URL parameter → (which end of its widget it sets, the decimals the widget keeps, unit, what it measures)
_NUMERIC_PARAMS: dict[str, tuple[str, int, str, str]] = {
    "dose_min": ("low", 1, "mg/m²", "cycle-1 dose"),
    "dose_max": ("high", 1, "mg/m²", "cycle-1 dose"),
    "age_min": ("low", 0, "years", "age"),
    "age_max": ("high", 0, "years", "age"),
    "blast_threshold": ("value", 0, "%", "blast threshold"),
}
_STEP_WORDS = {"age": "whole years", "cycle-1 dose": "steps of 0.1 mg/m²"}


def widget_notices(params: dict[str, list[str]], asked: FilterSpec, used: FilterSpec,
                   bounds: Bounds) -> tuple[UrlNotice, ...]:
    """A notice for every URL value the widgets could not show as given (clamped to a slider's
    ends, rounded to its step, or at an end that means "no limit"): the parameter, the value
    given, why, and the value used."""
    notices = []
    for param, names in PARAM_FIELDS.items():
        if all(getattr(asked, f) == getattr(used, f) for f in names):
            continue
        given = ",".join(params.get(param) or [value_in_words(param, asked)])
        notices.append(UrlNotice(param, given, _change_reason(param, asked, bounds), used=value_in_words(param, used)))
    return tuple(notices)


def _change_reason(param: str, asked: FilterSpec, bounds: Bounds) -> str:
    if param not in _NUMERIC_PARAMS:
        return "could not be shown by the sidebar"
    end, digits, unit, what = _NUMERIC_PARAMS[param]
    value = float(getattr(asked, PARAM_FIELDS[param][0]))
    if end == "value":
        lo, hi = BLAST_THRESHOLD_LIMITS
        return f"is outside the thresholds the sidebar offers ({lo:g}–{hi:g}{unit})"
    lo, hi = bounds.age if what == "age" else bounds.dose
    span = f"{lo:g}–{hi:g} {unit}"
    if value > hi:
        return f"is above the cohort's {what} range ({span})"
    if value < lo:
        return f"is below the cohort's {what} range ({span})"
    shown = round(value, digits)   # as state_from_spec rounds it for the slider
    if (end == "low" and shown <= lo) or (end == "high" and shown >= hi):
        return f"is at the end of the cohort's {what} range ({span}), which the sidebar reads as no limit"
    return f"is not on the sidebar's scale ({_STEP_WORDS[what]})"


def _from_bool(value: bool | None) -> str:
    return "all" if value is None else "yes" if value else "no"


def _to_bool(value: object) -> bool | None:
    return None if value in (None, "all") else value == "yes"


# ---------------------------------------------------------------------------------- session
def init_state(ref: CohortRef) -> None:
    """Fill the widget keys: from the URL on a session's first run, else keep what the user set."""
    extent = loaders.load_extent(ref)
    bounds = bounds_for(extent)
    if not st.session_state.get(_URL_LOADED):
        raw = {name: st.query_params.get_all(name) for name in st.query_params}
        vocabulary = CohortVocabulary(centres=extent.centres, salvage_lines=extent.salvage_lines)
        parsed = parse_query_params(raw, vocabulary)
        state = state_from_spec(parsed.spec, bounds)
        try:
            used = spec_from_state(state, bounds)
        except (FilterError, TypeError, ValueError):
            used = FilterSpec()
        for key, value in state.items():
            st.session_state[key] = value
        st.session_state[PRESENTER_KEY] = parsed.presenter
        # The notices belong to the slice the widgets show, which can differ from the link's
        # (a value clamped to a slider's end): every difference gets its own notice.
        st.session_state[_URL_SPEC] = used
        st.session_state[_URL_NOTICES] = parsed.notices + widget_notices(raw, parsed.spec, used, bounds)
        st.session_state[_URL_LOADED] = True
    defaults = state_from_spec(FilterSpec(), bounds)
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value
    if PRESENTER_KEY not in st.session_state:
        st.session_state[PRESENTER_KEY] = False


def presenter_requested() -> bool:
    """Presenter mode before the widgets exist (for the page config): session, else the URL."""
    if PRESENTER_KEY in st.session_state:
        return bool(st.session_state[PRESENTER_KEY])
    return st.query_params.get("presenter", "").strip().lower() in ("1", "yes", "true", "on")


def current_spec(ref: CohortRef) -> tuple[FilterSpec, list[str]]:
    """The slice the widgets describe, and any problem found turning them into one."""
    bounds = bounds_for(loaders.load_extent(ref))
    try:
        return spec_from_state(dict(st.session_state), bounds), []
    except (FilterError, TypeError, ValueError) as exc:
        return FilterSpec(), [f"The filters could not describe a slice ({exc}); showing all patients."]


def url_notices(spec: FilterSpec) -> tuple[UrlNotice, ...]:
    """Notices about the opening link, shown until the user changes the view."""
    if st.session_state.get(_URL_SPEC) == spec:
        return tuple(st.session_state.get(_URL_NOTICES, ()))
    return ()


def write_url(spec: FilterSpec, presenter: bool, extra: dict[str, str] | None = None) -> None:
    """The view as the URL: the filters, presenter mode and `extra` (the cohort, the page's choices)."""
    wanted = {**spec_to_query_params(spec, presenter=presenter), **(extra or {})}
    current = {name: (values if len(values := st.query_params.get_all(name)) > 1 else values[0])
               for name in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)


def reset_filters(ref: CohortRef) -> None:
    """Callback of the reset button: every filter back to its default (presenter mode is kept)."""
    bounds = bounds_for(loaders.load_extent(ref))
    for key, value in state_from_spec(FilterSpec(), bounds).items():
        st.session_state[key] = value


# ---------------------------------------------------------------------------------- widgets
def render(ref: CohortRef, spec: FilterSpec) -> None:
    """Draw the sidebar. `spec` is the slice the current widget values describe."""
    extent = loaders.load_extent(ref)
    bounds = bounds_for(extent)

    def counts(field: str, column: str) -> dict[object, int]:
        # the slice with every filter except this one: what each option would hold
        default = getattr(FilterSpec(), field)
        try:
            return loaders.load_category_counts(ref, replace(spec, **{field: default}), column)
        except FilterError:
            return {}

    def show_counts(pairs: list[tuple[str, object]], c: dict[object, int]) -> None:
        # Counts go in a caption, not in the option labels: streamlit sends a selection back as its
        # label, so a label that changes with the counts would lose (or corrupt) the selection.
        parts = [f"{text} ({c.get(value, 0)})" for text, value in pairs]
        if c.get(None):
            parts.append(f"not reported ({c[None]})")
        sb.caption(" · ".join(markdown_text(p) for p in parts))

    sb = st.sidebar
    sb.toggle("Presenter mode", key=PRESENTER_KEY,
              help="Tumour-board screen: large type, colour-blind-safe palette, full-width charts.")
    sb.header("Filters")
    sb.button("Reset all filters", key="f_reset", on_click=reset_filters, args=(ref,),
              disabled=spec.is_default(), width="stretch")
    sb.caption("Under each filter: patients per option (n), given the other filters.")

    c = counts("salvage_lines", "salvage_line")
    sb.multiselect("Salvage line", options=list(extent.salvage_lines), key="f_salvage",
                   format_func=lambda v: f"Salvage {v}", placeholder="All lines")
    show_counts([(f"Salvage {v}", v) for v in extent.salvage_lines], c)

    c = counts("blast_burden", "blast_burden")
    threshold = float(st.session_state.get("f_blast_threshold") or DEFAULT_BLAST_THRESHOLD)
    sb.radio("Bone-marrow blast burden", options=["all", "low", "high"], key="f_blast", horizontal=True,
             format_func={"all": "All", "low": "Low", "high": "High"}.get)
    show_counts([(f"low < {threshold:g}%", "low"), (f"high ≥ {threshold:g}%", "high")], c)
    sb.number_input("Blast threshold (%)", min_value=BLAST_THRESHOLD_LIMITS[0], max_value=BLAST_THRESHOLD_LIMITS[1],
                    step=5.0, key="f_blast_threshold",
                    format="%g")

    c = counts("dose_groups", "cycle1_dose_group")
    sb.multiselect("Cycle-1 InO dose group", options=list(DOSE_GROUPS), key="f_dose_group",
                   format_func=DOSE_GROUP_LABELS.get, placeholder="All doses")
    show_counts([(DOSE_GROUP_LABELS[g], g) for g in DOSE_GROUPS], c)
    sb.slider("Cycle-1 InO dose (mg/m²)", min_value=bounds.dose[0], max_value=bounds.dose[1], step=0.1,
              key="f_dose_range", format="%.1f")

    c = counts("hsct", "hsct")
    sb.radio("HSCT", options=list(_YES_NO), key="f_hsct", horizontal=True,
             format_func={"all": "All", "yes": "HSCT", "no": "No HSCT"}.get,
             help="HSCT happens after the first InO dose: a slice defined by it is not a baseline subgroup.")
    show_counts([("HSCT", True), ("no HSCT", False)], c)

    age_n = loaders.load_slice_size(ref, replace(spec, age_min=None, age_max=None))
    sb.slider("Age (years)", min_value=bounds.age[0], max_value=bounds.age[1], step=1.0, key="f_age", format="%g")
    in_range = loaders.load_slice_size(ref, spec) if (spec.age_min, spec.age_max) != (None, None) else age_n
    sb.caption(f"{in_range} of {age_n} in this age range")

    c = counts("sexes", "sex")
    sb.multiselect("Sex", options=list(SEXES), key="f_sex", placeholder="Both", format_func=_SEX_LABELS.get)
    show_counts([("female", "F"), ("male", "M")], c)

    c = counts("centres", "centre")
    sb.multiselect("Centre", options=list(extent.centres), key="f_centre", placeholder="All centres")
    show_counts([(centre, centre) for centre in extent.centres], c)

    c = counts("ph_statuses", "ph_status")
    sb.multiselect("Ph status", options=list(PH_STATUSES), key="f_ph", placeholder="Any")
    show_counts([(p, p) for p in PH_STATUSES], c)

    c = counts("disease_statuses", "disease_status")
    sb.multiselect("Relapsed / refractory", options=list(DISEASE_STATUSES), key="f_status", placeholder="Both",
                   format_func=str.capitalize)
    show_counts([(s, s) for s in DISEASE_STATUSES], c)

    c = counts("emd_baseline", "emd_baseline")
    sb.radio("Extramedullary disease at baseline", options=list(_YES_NO), key="f_emd", horizontal=True,
             format_func={"all": "All", "yes": "EMD", "no": "No EMD"}.get)
    show_counts([("EMD", True), ("no EMD", False)], c)

    sb.checkbox("Keep patients with a missing value", key="f_missing",
                help="When a filter is active, a patient whose value for it is not recorded is kept "
                     "(ticked) or dropped (unticked).")

    with sb.expander("Export options", icon=":material/ios_share:",
                     expanded=bool(st.session_state.get(downloads.SUPPRESSION_KEY))):
        downloads.export_options()
        st.caption("Applies to every download: charts, tables, slice data and the tumour-board deck.")
