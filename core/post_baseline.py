"""Survival by something that happens after the first dose (HSCT, response), compared validly.

A patient must live long enough to be transplanted or to respond, so splitting the cohort by
"had HSCT" as if it were known at the first dose credits that group with time it was certain to
survive (immortal-time bias). This module offers the two standard answers for a slice:

* `landmark_survival` — patients still under follow-up at a landmark, grouped by their status then,
  followed from the landmark (log-rank allowed);
* `time_dependent_survival` — Simon–Makuch curves (patients move from "no HSCT" to "HSCT" at their
  transplant date), the Mantel–Byar test and the time-dependent Cox hazard ratio (HSCT only).

and cumulative incidence with competing risks for the registry's `cumulative_incidence` endpoints
(`estimate_incidence`). The arithmetic is core.time_dependent's and core.cumulative_incidence's;
this module fetches the per-time counts in SQL and hands them over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.contract import DAYS_PER_MONTH
from core.cumulative_incidence import CompetingRisksAnalysis, estimate_cumulative_incidence
from core.database import Cohort
from core.endpoints import EndpointOptions, endpoint
from core.filters import FilterSpec
from core.groupings import grouping
from core.queries import fetch_intermediate_counts, fetch_survival_counts
from core.time_dependent import (
    HsctHazardRatio,
    LandmarkAnalysis,
    MantelByarTest,
    SimonMakuch,
    hsct_hazard_ratio,
    landmark_analysis,
    mantel_byar_test,
    simon_makuch,
)

# The variables a landmark / time-dependent comparison is offered for: grouping → its event.
TIME_DEPENDENT_GROUPINGS: tuple[str, ...] = ("hsct", "responder")
LANDMARK_CANDIDATES_MONTHS: tuple[float, ...] = (3.0, 2.0, 4.0, 6.0, 1.0)
MIN_PER_GROUP_AT_LANDMARK = 5


@dataclass(frozen=True)
class LandmarkChoice:
    """The default landmark and why: the first candidate both groups reach with enough patients."""

    months: float
    supported: bool           # both groups have ≥ MIN_PER_GROUP_AT_LANDMARK patients at the landmark
    reason: str


@dataclass(frozen=True)
class TimeDependentAnalysis:
    curves: SimonMakuch
    test: MantelByarTest
    hazard_ratio: HsctHazardRatio
    excluded: int


def _check(endpoint_key: str, by: str, options: EndpointOptions) -> None:
    entry = endpoint(endpoint_key)
    if by not in TIME_DEPENDENT_GROUPINGS:
        raise ValueError(f"{grouping(by).title} is fixed at baseline: compare it with the ordinary Kaplan–Meier")
    if entry.origin_text(options) != "the first InO dose":
        raise ValueError(f"{entry.title} is counted from {entry.origin_text(options)}: a landmark or "
                         "time-dependent comparison needs an endpoint counted from the first InO dose")
    if by == "hsct" and options.censor_at_hsct and entry.key != "os":
        raise ValueError("follow-up is censored at HSCT: there is no time after HSCT to compare")


def _patients(counts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One entry per patient from the aggregated counts (the engine works on patients)."""
    repeat = counts["n"].to_numpy(dtype="int64")
    return (np.repeat(counts["duration_days"].to_numpy(dtype=float), repeat),
            np.repeat(counts["event"].to_numpy(dtype=bool), repeat),
            np.repeat(counts["event_days"].to_numpy(dtype=float), repeat))


def default_landmark(cohort: Cohort, spec: FilterSpec, endpoint_key: str, by: str, *,
                     options: EndpointOptions = EndpointOptions()) -> LandmarkChoice:
    """A landmark the slice supports: the first of 3, 2, 4, 6 and 1 months at which both groups
    (with and without the event by then) still have at least 5 patients under follow-up."""
    _check(endpoint_key, by, options)
    counts, _ = fetch_intermediate_counts(cohort, spec, endpoint_key, by, options=options)
    days, _, event_days = _patients(counts)
    yes, no = grouping(by).label(True), grouping(by).label(False)
    for months in LANDMARK_CANDIDATES_MONTHS:
        t = months * DAYS_PER_MONTH
        under = days >= t
        with_event = int((under & (event_days <= t)).sum())
        without = int(under.sum()) - with_event
        if min(with_event, without) >= MIN_PER_GROUP_AT_LANDMARK:
            return LandmarkChoice(months, True, f"{months:g} months: {with_event} patients ({yes} by then) and "
                                                f"{without} ({no}) are still under follow-up")
    return LandmarkChoice(LANDMARK_CANDIDATES_MONTHS[0], False,
                          f"no landmark from 1 to 6 months leaves {MIN_PER_GROUP_AT_LANDMARK} patients in each "
                          f"group; {LANDMARK_CANDIDATES_MONTHS[0]:g} months shown, read it with care")


def landmark_survival(cohort: Cohort, spec: FilterSpec, endpoint_key: str, by: str, *, landmark_months: float,
                      options: EndpointOptions = EndpointOptions(), compare: bool = True,
                      conf_level: float = 0.95,
                      milestones: Sequence[float] = (6.0, 12.0)) -> LandmarkAnalysis:
    """Kaplan–Meier from the landmark by status at the landmark (patients who had the event or were
    censored before it are excluded and counted)."""
    _check(endpoint_key, by, options)
    counts, _ = fetch_intermediate_counts(cohort, spec, endpoint_key, by, options=options)
    days, events, event_days = _patients(counts)
    return landmark_analysis(days, events, event_days, landmark_days=landmark_months * DAYS_PER_MONTH,
                             endpoint=endpoint_key, conf_level=conf_level, landmark_months=tuple(milestones),
                             compare=compare, grouping=by)


def time_dependent_survival(cohort: Cohort, spec: FilterSpec, endpoint_key: str, by: str = "hsct", *,
                            options: EndpointOptions = EndpointOptions(), conf_level: float = 0.95,
                            milestones: Sequence[float] = (6.0, 12.0)) -> TimeDependentAnalysis:
    """Simon–Makuch curves, the Mantel–Byar test and the time-dependent Cox hazard ratio."""
    _check(endpoint_key, by, options)
    counts, excluded = fetch_intermediate_counts(cohort, spec, endpoint_key, by, options=options)
    days, events, event_days = _patients(counts)
    return TimeDependentAnalysis(
        curves=simon_makuch(days, events, event_days, endpoint=endpoint_key, conf_level=conf_level,
                            landmark_months=tuple(milestones), grouping=by),
        test=mantel_byar_test(days, events, event_days),
        hazard_ratio=hsct_hazard_ratio(days, events, event_days, conf_level=conf_level),
        excluded=excluded)


def cause_labels(endpoint_key: str) -> dict[int, str]:
    """The event kinds of a cumulative-incidence endpoint, named for a legend."""
    entry = endpoint(endpoint_key)
    if entry.kind != "cumulative_incidence":
        raise ValueError(f"{entry.title} is not a cumulative-incidence endpoint")
    return dict(enumerate(entry.legend, start=1))


def estimate_incidence(cohort: Cohort, spec: FilterSpec, endpoint_key: str, *, by: str = "all",
                       options: EndpointOptions = EndpointOptions(), compare: bool = False,
                       conf_level: float = 0.95, milestones: Sequence[float] = (6.0, 12.0)) -> CompetingRisksAnalysis:
    """Aalen–Johansen cumulative incidence of the endpoint's event with its competing event, by group."""
    counts, excluded = fetch_survival_counts(cohort, spec, endpoint_key, by=by, options=options)
    frame = pd.DataFrame({"group": counts["group"], "duration_days": counts["duration_days"],
                          "cause": counts["event_kind"], "n": counts["n"]})
    order = [v for v in grouping(by).order if v in set(frame["group"])] or None
    return estimate_cumulative_incidence(frame, cause_labels=cause_labels(endpoint_key), by=by, excluded=excluded,
                                         title=endpoint(endpoint_key).title, compare=compare and by != "all",
                                         group_order=order, conf_level=conf_level, landmark_months=tuple(milestones))
