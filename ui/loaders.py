"""Cached loaders at the edge: every call into core that a page makes goes through here.

* `open_cohort_cached` — `@st.cache_resource`: one read-only connection per process and cohort
  file (core takes a cursor per query, so sessions in threads can share it).
* `load_*` — `@st.cache_data` keyed on a `CohortRef` (path + modification time, so a rebuilt file
  is reopened) and the frozen `FilterSpec`/`EndpointOptions`, each keyed by its repr (`CACHE_KEYS`).

Errors from core (`CohortError`) propagate; app.py shows them to the user once, with their hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from core.characteristics import CharacteristicsTable, patient_characteristics
from core.cohorts import default_cohort_path
from core.contract import DEFAULT_COHORT_ENV, DEFAULT_COHORT_PATH
from core.cumulative_incidence import CompetingRisksAnalysis
from core.database import Cohort, CohortError, open_cohort
from core.endpoints import EndpointOptions
from core.filters import FilterSpec
from core.post_baseline import (
    LandmarkChoice,
    TimeDependentAnalysis,
    default_landmark,
    estimate_incidence,
    landmark_survival,
    time_dependent_survival,
)
from core.queries import (
    fetch_baseline_extent,
    fetch_category_counts,
    fetch_measures,
    fetch_patient_listing,
    fetch_slice_events,
    fetch_study_meta,
)
from core.response import ResponseSummary, SubgroupRate, cr_cri_rate, cr_cri_rate_by, summarise_response
from core.results import ProportionEstimate, TooFewPatients
from core.safety import (
    ComponentRow,
    DeathSummary,
    ToxicityByHsct,
    causes_of_death,
    toxicity_by,
    toxicity_by_hsct,
    toxicity_components,
)
from core.survival import SurvivalAnalysis, estimate_survival
from core.time_dependent import LandmarkAnalysis


@dataclass(frozen=True)
class CohortRef:
    """Which cohort file a view reads: hashable, so it can key the caches."""

    path: str
    mtime: float


@dataclass(frozen=True)
class CohortExtent:
    """What the whole cohort holds, to build the filter widgets."""

    n: int
    centres: tuple[str, ...]
    salvage_lines: tuple[int, ...]
    age_min: float | None
    age_max: float | None
    dose_min: float | None
    dose_max: float | None


# A page view makes ~40 cached calls. Streamlit's generic hasher walks a FilterSpec field by field
# on every one (~0.2 ms each, scripts/profile_rerun.py); a frozen dataclass's repr names every
# field with its exact value (floats included), so it is a complete key at a fraction of the cost.
CACHE_KEYS = {CohortRef: repr, FilterSpec: repr, EndpointOptions: repr}


def current_cohort_ref(chosen: Path | None = None) -> CohortRef:
    """The cohort a view reads: the one chosen in the picker, else $INO_COHORT_PATH or the default."""
    path = chosen if chosen is not None else default_cohort_path()
    if not path.exists():
        hint = ("Build the default cohort with `python -m data.build_db`."
                if path == DEFAULT_COHORT_PATH else f"Check the path in ${DEFAULT_COHORT_ENV}.")
        raise CohortError(f"Cohort file {path} does not exist.", hint=hint)
    return CohortRef(path=str(path.resolve()), mtime=path.stat().st_mtime)


@st.cache_resource(show_spinner=False, max_entries=8)
def open_cohort_cached(path: str, mtime: float) -> Cohort:
    return open_cohort(path)


def cohort(ref: CohortRef) -> Cohort:
    return open_cohort_cached(ref.path, ref.mtime)


# ---------------------------------------------------------------------------------- the cohort
@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=CACHE_KEYS)
def load_study_meta(ref: CohortRef) -> dict[str, str]:
    return fetch_study_meta(cohort(ref))


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=CACHE_KEYS)
def load_extent(ref: CohortRef) -> CohortExtent:
    row = fetch_baseline_extent(cohort(ref)).iloc[0].to_dict()

    def num(key: str) -> float | None:
        value = row.get(key)
        return None if value is None or pd.isna(value) else float(value)

    centres = tuple(str(c) for c in _items(row.get("centres")) if c is not None and not pd.isna(c))
    lines = tuple(int(v) for v in _items(row.get("salvage_lines")) if v is not None and not pd.isna(v))
    return CohortExtent(n=int(row.get("n") or 0), centres=centres, salvage_lines=lines,
                        age_min=num("age_min"), age_max=num("age_max"),
                        dose_min=num("dose_min"), dose_max=num("dose_max"))


# ---------------------------------------------------------------------------------- the slice
@st.cache_data(show_spinner=False, max_entries=512, hash_funcs=CACHE_KEYS)
def load_slice_size(ref: CohortRef, spec: FilterSpec) -> int:
    frame = fetch_measures(cohort(ref), spec, ("n",))
    return int(frame["n"].iloc[0]) if len(frame) else 0


@st.cache_data(show_spinner=False, max_entries=2048, hash_funcs=CACHE_KEYS)
def load_category_counts(ref: CohortRef, spec: FilterSpec, column: str) -> dict[object, int]:
    """Patients per value of one grouping within the slice; missing values under the key None."""
    frame = fetch_category_counts(cohort(ref), spec, column)
    out: dict[object, int] = {}
    for value, n in zip(frame["value"], frame["n"]):
        key = None if value is None or (isinstance(value, float) and pd.isna(value)) else _plain(value)
        out[key] = out.get(key, 0) + int(n)
    return out


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=CACHE_KEYS)
def load_characteristics(ref: CohortRef, spec: FilterSpec) -> CharacteristicsTable:
    return patient_characteristics(cohort(ref), spec)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=CACHE_KEYS)
def load_response_summary(ref: CohortRef, spec: FilterSpec) -> ResponseSummary:
    return summarise_response(cohort(ref), spec)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=CACHE_KEYS)
def load_cr_cri(ref: CohortRef, spec: FilterSpec) -> ProportionEstimate | TooFewPatients:
    return cr_cri_rate(cohort(ref), spec)


@st.cache_data(show_spinner=False, max_entries=512, hash_funcs=CACHE_KEYS)
def load_cr_cri_by(ref: CohortRef, spec: FilterSpec, by: str) -> list[SubgroupRate]:
    return cr_cri_rate_by(cohort(ref), spec, by)


@st.cache_data(show_spinner=False, max_entries=512, hash_funcs=CACHE_KEYS)
def load_survival(ref: CohortRef, spec: FilterSpec, endpoint: str, by: str = "all",
                  options: EndpointOptions = EndpointOptions(), compare: bool = False,
                  milestones: tuple[float, ...] = (6.0, 12.0)) -> SurvivalAnalysis:
    return estimate_survival(cohort(ref), spec, endpoint, by=by, options=options, compare=compare,
                             landmark_months=milestones)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=CACHE_KEYS)
def load_toxicity_by_hsct(ref: CohortRef, spec: FilterSpec) -> ToxicityByHsct:
    return toxicity_by_hsct(cohort(ref), spec)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=CACHE_KEYS)
def load_toxicity_by(ref: CohortRef, spec: FilterSpec, by: str, toxicity: str = "vod") -> list[SubgroupRate]:
    return toxicity_by(cohort(ref), spec, by, toxicity)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=CACHE_KEYS)
def load_toxicity_components(ref: CohortRef, spec: FilterSpec) -> list[ComponentRow]:
    return toxicity_components(cohort(ref), spec)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=CACHE_KEYS)
def load_causes_of_death(ref: CohortRef, spec: FilterSpec) -> DeathSummary:
    return causes_of_death(cohort(ref), spec)


@st.cache_data(show_spinner=False, max_entries=128, hash_funcs=CACHE_KEYS)
def load_patient_listing(ref: CohortRef, spec: FilterSpec) -> pd.DataFrame:
    return fetch_patient_listing(cohort(ref), spec)


@st.cache_data(show_spinner=False, max_entries=128, hash_funcs=CACHE_KEYS)
def load_slice_events(ref: CohortRef, spec: FilterSpec) -> pd.DataFrame:
    return fetch_slice_events(cohort(ref), spec)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=CACHE_KEYS)
def load_paper_check(ref: CohortRef):  # type: ignore[no-untyped-def]
    """The paper check for the whole cohort; raises ImportError while core.paper is missing."""
    from core.paper import check_paper

    return check_paper(cohort(ref))


def _items(value: object) -> list[object]:
    """A DuckDB LIST cell (numpy array, list or None) as a Python list."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    tolist = getattr(value, "tolist", None)
    return list(tolist()) if callable(tolist) else []


def _plain(value: object) -> object:
    """numpy scalars → Python scalars (so option values compare equal to widget values)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


# ---------------------------------------------------------------------------------- after the first dose
@st.cache_data(show_spinner=False, max_entries=256)
def load_incidence(ref: CohortRef, spec: FilterSpec, endpoint_key: str, by: str = "all",
                   options: EndpointOptions = EndpointOptions(), compare: bool = False,
                   milestones: tuple[float, ...] = (6.0, 12.0)) -> CompetingRisksAnalysis:
    return estimate_incidence(cohort(ref), spec, endpoint_key, by=by, options=options, compare=compare,
                              milestones=milestones)


@st.cache_data(show_spinner=False, max_entries=256)
def load_default_landmark(ref: CohortRef, spec: FilterSpec, endpoint_key: str, by: str,
                          options: EndpointOptions = EndpointOptions()) -> LandmarkChoice:
    return default_landmark(cohort(ref), spec, endpoint_key, by, options=options)


@st.cache_data(show_spinner=False, max_entries=256)
def load_landmark(ref: CohortRef, spec: FilterSpec, endpoint_key: str, by: str, landmark_months: float,
                  options: EndpointOptions = EndpointOptions(), compare: bool = False,
                  milestones: tuple[float, ...] = (6.0, 12.0)) -> LandmarkAnalysis:
    return landmark_survival(cohort(ref), spec, endpoint_key, by, landmark_months=landmark_months, options=options,
                             compare=compare, milestones=milestones)


@st.cache_data(show_spinner=False, max_entries=256)
def load_time_dependent(ref: CohortRef, spec: FilterSpec, endpoint_key: str, by: str = "hsct",
                        options: EndpointOptions = EndpointOptions(),
                        milestones: tuple[float, ...] = (6.0, 12.0)) -> TimeDependentAnalysis:
    return time_dependent_survival(cohort(ref), spec, endpoint_key, by, options=options, milestones=milestones)
