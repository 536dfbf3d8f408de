"""Overall survival, relapse-free survival and duration of remission: Kaplan–Meier.

Durations come from the dates in the events table (core.queries), aggregated in SQL to one row
per (time, event) with a patient count. `product_limit` computes the estimate, its Greenwood
variance and lifelines' default band from that table with the same operations, in the same
order, as lifelines' KaplanMeierFitter on one row per patient (tests hold the two equal to
1e-12 on raw rows, ties, zero times and all-censored or all-event slices). lifelines itself
fits about 10 ms of pandas per curve; a page draws up to a dozen curves per filter click, so
the fit would be most of a click's time on a small cohort. The log-rank test stays lifelines'.

Conventions (the data contract's): months = days / 30.4375; 95% CI by lifelines' default
exponential Greenwood (log(−log)) pointwise band; the median's CI is where that band crosses 0.5;
number at risk at t = patients whose time is ≥ t.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from lifelines.statistics import multivariate_logrank_test
from scipy.stats import norm

from core.contract import DAYS_PER_MONTH
from core.database import Cohort
from core.endpoints import EndpointOptions
from core.endpoints import endpoint as registry_endpoint
from core.filters import FilterSpec
from core.groupings import group_label
from core.queries import fetch_survival_counts
from core.results import TooFewPatients

KM_METHOD = "Kaplan–Meier product-limit"
CI_METHOD = ("Greenwood variance, log(−log) transform (exponential Greenwood, as lifelines' default); "
             "median CI by band inversion")
MIN_PATIENTS_CURVE = 2     # a curve of one patient says nothing a listing does not
MIN_PATIENTS_LOGRANK = 5   # per group; below this a comparison is suppressed with a reason
SPARSE_AT_RISK = 5         # the curve is drawn dashed where fewer remain at risk

# The endpoints this module estimates (their meaning is in core.endpoints).
KM_ENDPOINTS: tuple[str, ...] = ("os", "rfs", "dor")


@dataclass(frozen=True)
class MedianEstimate:
    value: float | None            # months; None = not reached
    lower: float | None            # None = not reached / not estimable
    upper: float | None

    def format(self) -> str:
        def f(x: float | None) -> str:
            return "NR" if x is None else f"{x:.1f}"
        if self.value is None:
            return "NR"
        return f"{f(self.value)} mo (95% CI {f(self.lower)}–{f(self.upper)})"


@dataclass(frozen=True)
class LandmarkRate:
    """S(t) with its pointwise CI.

    estimate None when follow-up does not reach t with patients still at risk; 0 (CI not
    estimable, lower/upper None) when the curve has already reached 0 before t.
    """

    months: float
    estimate: float | None
    lower: float | None
    upper: float | None
    at_risk: int

    def format(self) -> str:
        if self.estimate is None:
            return "—"
        if self.lower is None or self.upper is None:
            return f"{100 * self.estimate:.1f}% (CI not estimable)"
        return f"{100 * self.estimate:.1f}% ({100 * self.lower:.1f}–{100 * self.upper:.1f})"


@dataclass(frozen=True)
class AtRiskTable:
    months: tuple[float, ...]
    at_risk: tuple[int, ...]
    events: tuple[int, ...]        # cumulative events up to and including t
    censored: tuple[int, ...]      # cumulative censorings up to and including t


@dataclass(frozen=True)
class SurvivalCurve:
    endpoint: str
    label: str
    n: int
    events: int
    censored: int
    excluded: int                  # in the endpoint's population but without a usable time
    timeline: tuple[float, ...]    # months, starting at 0
    survival: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    at_risk_on_timeline: tuple[int, ...]
    censor_times: tuple[float, ...]
    median: MedianEstimate
    landmarks: tuple[LandmarkRate, ...]
    at_risk_table: AtRiskTable
    conf_level: float = 0.95
    method: str = KM_METHOD
    ci_method: str = CI_METHOD

    def landmark(self, months: float) -> LandmarkRate:
        for rate in self.landmarks:
            if math.isclose(rate.months, months):
                return rate
        raise KeyError(f"no landmark at {months} months")

    def sparse_from(self) -> float | None:
        """Months from which fewer than SPARSE_AT_RISK patients remain at risk.

        The curve after timeline point t is estimated from those still at risk once t's events
        and censorings are removed, i.e. the at-risk count of the next timeline point.
        """
        for t, remaining in zip(self.timeline, self.at_risk_on_timeline[1:] + (0,)):
            if remaining < SPARSE_AT_RISK:
                return t
        return None


@dataclass(frozen=True)
class GroupComparison:
    """An exploratory log-rank test, or the reason it is not shown."""

    statistic: float | None
    p_value: float | None
    degrees_of_freedom: int | None
    suppressed_reason: str | None
    method: str = "log-rank (exploratory, not adjusted for multiplicity)"


@dataclass(frozen=True)
class SurvivalAnalysis:
    endpoint: str
    title: str
    definition: str
    grouping: str
    curves: tuple[SurvivalCurve | TooFewPatients, ...]
    comparison: GroupComparison | None
    conf_level: float
    options: EndpointOptions = EndpointOptions()

    @property
    def fitted(self) -> list[SurvivalCurve]:
        return [c for c in self.curves if isinstance(c, SurvivalCurve)]


@dataclass(frozen=True)
class ProductLimit:
    """The estimate on its timeline (0 and every distinct time), with the pointwise band."""

    timeline: np.ndarray
    at_risk: np.ndarray
    deaths: np.ndarray
    survival: np.ndarray
    greenwood: np.ndarray        # Σ d / (n (n − d)), the Greenwood sum up to each time
    lower: np.ndarray
    upper: np.ndarray


def product_limit(durations: np.ndarray, observed: np.ndarray, counts: np.ndarray, *,
                  conf_level: float = 0.95) -> ProductLimit:
    """Kaplan–Meier from rows of (time, event, number of patients).

    lifelines 0.30's arithmetic, step for step: log S = Σ log(n − d) − log n; Greenwood sum with
    d / (n (n − d)) taken as 0 once everyone left has died; band exp(−exp(log(−log S) ∓ z √V / log S))
    with z = Φ⁻¹(1 − α/2), and 1 where the band is undefined (S = 1).
    """
    durations = np.asarray(durations, dtype=float)
    timeline = np.unique(np.concatenate(([0.0], durations)))
    step = np.searchsorted(timeline, durations)
    counts = np.asarray(counts, dtype=float)
    removed = np.bincount(step, weights=counts, minlength=len(timeline))
    deaths = np.bincount(step, weights=np.where(observed, counts, 0.0), minlength=len(timeline))
    at_risk = counts.sum() - np.concatenate(([0.0], np.cumsum(removed)[:-1]))
    z = _z(conf_level)
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.exp(np.cumsum(np.log(at_risk - deaths) - np.log(at_risk)))
        terms = deaths / (at_risk * (at_risk - deaths))
        greenwood = np.cumsum(np.where(np.isposinf(terms), 0.0, terms))
        v = np.log(survival)
        lower = np.exp(-np.exp(np.log(-v) - z * np.sqrt(greenwood) / v))
        upper = np.exp(-np.exp(np.log(-v) + z * np.sqrt(greenwood) / v))
    return ProductLimit(timeline=timeline, at_risk=at_risk, deaths=deaths, survival=survival,
                        greenwood=greenwood, lower=np.where(np.isnan(lower), 1.0, lower),
                        upper=np.where(np.isnan(upper), 1.0, upper))


@lru_cache(maxsize=16)
def _z(conf_level: float) -> float:
    alpha = 1 - conf_level                  # as lifelines: alpha = 1 − level, z = Φ⁻¹(1 − α/2)
    return float(norm.ppf(1 - alpha / 2.0))


def fit_kaplan_meier(durations_months: Sequence[float], events: Sequence[bool], *,
                     weights: Sequence[float] | None = None, label: str = "All patients",
                     endpoint: str = "os", conf_level: float = 0.95,
                     landmark_months: Sequence[float] = (6.0, 12.0),
                     table_months: Sequence[float] | None = None,
                     excluded: int = 0) -> SurvivalCurve | TooFewPatients:
    """Fit one Kaplan–Meier curve. `weights` are patient counts per row (integers)."""
    durations = np.asarray(durations_months, dtype=float)
    observed = np.asarray(events, dtype=bool)
    counts = np.ones_like(durations) if weights is None else np.asarray(weights, dtype=float)
    n = int(round(counts.sum()))
    what = f"{registry_endpoint(endpoint).title} — {label}"
    if n < MIN_PATIENTS_CURVE:
        return TooFewPatients(what=what, n=n, needed=MIN_PATIENTS_CURVE)

    curve = product_limit(durations, observed, counts, conf_level=conf_level)
    timeline = curve.timeline
    median = MedianEstimate(value=_finite(_first_at_or_below(curve, curve.survival)),
                            lower=_finite(_first_at_or_below(curve, curve.lower)),
                            upper=_finite(_first_at_or_below(curve, curve.upper)))
    at_risk_line = tuple(_at_risk_many(durations, counts, timeline))
    landmarks = tuple(_landmark(curve, durations, counts, t) for t in landmark_months)
    if table_months is None:
        table_months = default_table_months(float(durations.max()))
    table = AtRiskTable(
        months=tuple(float(t) for t in table_months),
        at_risk=tuple(_at_risk(durations, counts, t) for t in table_months),
        events=tuple(int(counts[(durations <= t) & observed].sum()) for t in table_months),
        censored=tuple(int(counts[(durations <= t) & ~observed].sum()) for t in table_months),
    )
    censor_times = tuple(float(t) for t in np.unique(durations[~observed]))
    n_events = int(counts[observed].sum())
    return SurvivalCurve(
        endpoint=endpoint, label=label, n=n, events=n_events, censored=n - n_events, excluded=excluded,
        timeline=tuple(timeline.tolist()), survival=tuple(curve.survival.tolist()),
        lower=tuple(curve.lower.tolist()), upper=tuple(curve.upper.tolist()), at_risk_on_timeline=at_risk_line,
        censor_times=censor_times, median=median, landmarks=landmarks, at_risk_table=table,
        conf_level=conf_level,
    )


def estimate_survival(cohort: Cohort, spec: FilterSpec, endpoint: str = "os", *, by: str = "all",
                      options: EndpointOptions = EndpointOptions(), conf_level: float = 0.95,
                      landmark_months: Sequence[float] = (6.0, 12.0),
                      compare: bool = False, group_order: Sequence[object] | None = None) -> SurvivalAnalysis:
    """Kaplan–Meier for the slice, optionally one curve per group of `by`."""
    entry = registry_endpoint(endpoint)
    if entry.kind != "survival":
        raise ValueError(f"{entry.title} is not estimated by Kaplan–Meier")
    counts, excluded = fetch_survival_counts(cohort, spec, endpoint, by=by, options=options)
    counts = counts.assign(months=counts["duration_days"] / DAYS_PER_MONTH)
    excluded_by_group = dict(zip(excluded["group"], excluded["n"])) if len(excluded) else {}
    months = counts["months"].to_numpy(dtype=float)
    observed = counts["event"].to_numpy(dtype=bool)
    patients = counts["n"].to_numpy(dtype=float)
    horizon = float(months.max()) if len(months) else 12.0
    table_months = default_table_months(horizon)
    # factorize keeps a missing group (None/NaN) as a group of its own, in order of appearance
    codes, uniques = pd.factorize(counts["group"], use_na_sentinel=False)
    groups = list(uniques)
    if group_order is not None:
        groups = [g for g in group_order if g in groups] + [g for g in groups if g not in group_order]
    curves: list[SurvivalCurve | TooFewPatients] = []
    for group in groups:
        rows = codes == list(uniques).index(group)
        curves.append(fit_kaplan_meier(
            months[rows], observed[rows], weights=patients[rows], label=group_label(by, group, blast_threshold=spec.blast_threshold), endpoint=endpoint,
            conf_level=conf_level, landmark_months=landmark_months, table_months=table_months,
            excluded=int(excluded_by_group.get(group, 0))))
    if not groups:
        curves.append(TooFewPatients(what=entry.title, n=0, needed=MIN_PATIENTS_CURVE))
    comparison = compare_groups(counts) if compare and by != "all" else None
    return SurvivalAnalysis(endpoint=endpoint, title=entry.title, definition=entry.definition(options),
                            grouping=by, curves=tuple(curves), comparison=comparison, conf_level=conf_level,
                            options=options)


def compare_groups(counts: pd.DataFrame) -> GroupComparison:
    """Log-rank across groups; suppressed when any group is too small or there is one group."""
    sizes = counts.groupby("group")["n"].sum()
    if len(sizes) < 2:
        return GroupComparison(None, None, None, "only one group in this slice")
    small = sizes[sizes < MIN_PATIENTS_LOGRANK]
    if len(small):
        name, size = small.index[0], int(small.iloc[0])
        return GroupComparison(None, None, None,
                               f"group {name} has {size} patients (at least {MIN_PATIENTS_LOGRANK} per group needed)")
    if counts.loc[counts["event"], "n"].sum() == 0:
        return GroupComparison(None, None, None, "no events in this slice")
    result = multivariate_logrank_test(counts["months"], counts["group"].astype(str), counts["event"],
                                       weights=counts["n"])
    return GroupComparison(statistic=float(result.test_statistic), p_value=float(result.p_value),
                           degrees_of_freedom=int(result.degrees_of_freedom), suppressed_reason=None)


def default_table_months(horizon: float) -> tuple[float, ...]:
    """Times for the at-risk table: every 3 months up to the follow-up horizon.

    A chart shows a readable subset of them for the window it draws (core.charts).
    """
    step = 3.0
    last = max(step, math.ceil(horizon / step) * step)
    return tuple(float(t) for t in np.arange(0.0, last + step / 2, step))


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _first_at_or_below(curve: ProductLimit, values: np.ndarray, q: float = 0.5) -> float:
    """When `values` falls to q, as lifelines' qth_survival_time reads it: inf unless the last value
    is ≤ q, else the first time found by a binary search of the (non-increasing) values. The band
    can rise after a drop at time 0; lifelines then reports "not reached", and so does this."""
    if values[-1] > q:
        return math.inf
    return float(curve.timeline[int(np.searchsorted(-values, -q, side="left"))])


def _at_risk(durations: np.ndarray, counts: np.ndarray, t: float) -> int:
    return int(counts[durations >= t].sum())


def _at_risk_many(durations: np.ndarray, counts: np.ndarray, times: np.ndarray) -> list[int]:
    """`_at_risk` at every time at once: one sort and a cumulative sum instead of a pass per time
    (the timeline of a registry has thousands of distinct times)."""
    order = np.argsort(durations, kind="stable")
    before = np.concatenate(([0.0], np.cumsum(counts[order])))   # patients with a time < sorted[i]
    index = np.searchsorted(durations[order], np.asarray(times, dtype=float), side="left")
    return [int(v) for v in before[-1] - before[index]]


def _landmark(curve: ProductLimit, durations: np.ndarray, counts: np.ndarray, t: float) -> LandmarkRate:
    at_risk = _at_risk(durations, counts, t)
    if float(curve.survival[-1]) == 0.0 and t >= float(curve.timeline[-1]):
        # everyone has had the event: S stays 0 at every later time, whatever the last follow-up
        return LandmarkRate(months=t, estimate=0.0, lower=None, upper=None, at_risk=at_risk)
    if t > float(durations.max()):
        return LandmarkRate(months=t, estimate=None, lower=None, upper=None, at_risk=0)
    i = int(np.searchsorted(curve.timeline, t, side="right")) - 1   # the step in force at t
    return LandmarkRate(months=t, estimate=float(curve.survival[i]), lower=float(curve.lower[i]),
                        upper=float(curve.upper[i]), at_risk=at_risk)
