"""HSCT as an event during follow-up: landmark analysis, Simon–Makuch curves, Mantel–Byar test, Cox HR.

Comparing patients by "had HSCT" as if it were known at the first dose credits the transplanted
group with the time they had to survive to reach transplant (immortal-time bias). Two answers:

- Landmark: keep patients still under follow-up at a landmark time, group them by HSCT by then,
  and follow them from the landmark (Anderson, Cain & Gelber 1983). Kaplan–Meier and log-rank
  are core.survival's.
- Time-dependent: each patient is in the no-HSCT state from the first dose and moves to the HSCT
  state at transplant. Simon–Makuch (1984) draws product-limit curves on those risk sets (delayed
  entry into HSCT); Mantel–Byar (1974) tests them, which is the score test of a Cox model with HSCT
  as a time-dependent covariate; the Cox fit gives the hazard ratio.

The intervals follow R's survival::tmerge with tdc(hsct_day): no HSCT on (0, h], HSCT on (h, T];
HSCT at day 0 means HSCT from the start; HSCT on the day of the event (h = T) leaves the event in
the no-HSCT state, as tmerge does. Risk sets are R's (start, stop], except that an interval starting
at 0 is at risk at time 0, so a day-0 event counts as in the ordinary Kaplan–Meier. The Cox model
uses Efron's ties, R's coxph default (Breslow on request); the interval is Wald's, exp(β ± z·se).
tests/test_time_dependent.py holds all of it to survival's values on the Stanford heart transplant
data (scripts/r_golden_values.R). Durations and HSCT times are in days; curves are in months.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from core.contract import DAYS_PER_MONTH
from core.endpoints import ENDPOINTS
from core.groupings import group_label
from core.results import TooFewPatients
from core.survival import (
    KM_METHOD,
    MIN_PATIENTS_CURVE,
    MIN_PATIENTS_LOGRANK,
    AtRiskTable,
    GroupComparison,
    LandmarkRate,
    MedianEstimate,
    ProductLimit,
    SurvivalCurve,
    compare_groups,
    default_table_months,
    fit_kaplan_meier,
)


def endpoint_title(key: str) -> str:
    return ENDPOINTS[key].title if key in ENDPOINTS else key


Ties = Literal["efron", "breslow"]

LANDMARK_METHOD = ("landmark analysis: patients under follow-up at the landmark, grouped by HSCT by then, "
                   "Kaplan–Meier from the landmark")
SIMON_MAKUCH_METHOD = ("Simon–Makuch product-limit: patients move from no HSCT to HSCT at transplant "
                       "(counting-process risk sets, delayed entry)")
MANTEL_BYAR_METHOD = ("Mantel–Byar test (score test of a Cox model with HSCT as a time-dependent covariate; "
                      "exploratory, not adjusted for multiplicity)")
COX_METHOD = "Cox model with HSCT as a time-dependent covariate; Wald interval exp(β ± z·se)"
MIN_PATIENTS_PER_STATE = MIN_PATIENTS_LOGRANK   # with follow-up in each state, for a test or a hazard ratio
MIN_EVENTS_COX = 5
MAX_LOG_HAZARD_RATIO = 20.0   # |log HR| + z·se beyond this: a diverging fit, not an estimate


@dataclass(frozen=True)
class HsctIntervals:
    """Follow-up split at transplant (R's tmerge): one row per patient and state."""

    patient: np.ndarray     # index into the input arrays
    start: np.ndarray       # days
    stop: np.ndarray
    event: np.ndarray       # bool: the patient's event ends this interval
    hsct: np.ndarray        # bool: the interval is after transplant

    @property
    def entry(self) -> np.ndarray:
        """Risk-set entry: at risk at t when entry < t ≤ stop; from time 0 at the start of follow-up."""
        return np.where(self.start == 0, -np.inf, self.start)


def hsct_intervals(durations_days: Sequence[float] | np.ndarray, events: Sequence[bool] | np.ndarray,
                   hsct_days: Sequence[float] | np.ndarray) -> HsctIntervals:
    durations, observed, hsct = _patients(durations_days, events, hsct_days)
    index = np.arange(len(durations))
    transplanted = ~np.isnan(hsct)
    at_start = transplanted & (hsct == 0)
    moves = transplanted & (hsct > 0) & (hsct < durations)
    # the no-HSCT part: everyone not transplanted at day 0, up to transplant or the end of follow-up
    before = ~at_start
    before_stop = np.where(moves, hsct, durations)
    after = at_start | moves
    return HsctIntervals(
        patient=np.concatenate((index[before], index[after])),
        start=np.concatenate((np.zeros(before.sum()), np.where(at_start, 0.0, hsct)[after])),
        stop=np.concatenate((before_stop[before], durations[after])),
        event=np.concatenate((observed[before] & ~moves[before], observed[after])),
        hsct=np.concatenate((np.zeros(before.sum(), dtype=bool), np.ones(after.sum(), dtype=bool))),
    )


def product_limit_with_entry(entry: np.ndarray, stop: np.ndarray, observed: np.ndarray, *,
                             conf_level: float = 0.95) -> ProductLimit:
    """Kaplan–Meier with delayed entry: at risk at t = entered before t and not yet left.

    The arithmetic and band of core.survival.product_limit (Greenwood, log(−log)); R's survfit on
    Surv(start, stop, event) gives the same estimate, std.err² = the Greenwood sum, and band.
    """
    stop = np.asarray(stop, dtype=float)
    timeline = np.unique(np.concatenate(([0.0], stop)))
    deaths = np.bincount(np.searchsorted(timeline, stop), weights=np.asarray(observed, dtype=float),
                         minlength=len(timeline))
    at_risk = _at_risk(entry, stop, timeline).astype(float)
    z = float(norm.ppf(1 - (1 - conf_level) / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(at_risk > 0, np.log(at_risk - deaths) - np.log(at_risk), 0.0)
        survival = np.exp(np.cumsum(steps))
        terms = np.where(at_risk > 0, deaths / (at_risk * (at_risk - deaths)), 0.0)
        greenwood = np.cumsum(np.where(np.isposinf(terms), 0.0, terms))
        v = np.log(survival)
        lower = np.exp(-np.exp(np.log(-v) - z * np.sqrt(greenwood) / v))
        upper = np.exp(-np.exp(np.log(-v) + z * np.sqrt(greenwood) / v))
    return ProductLimit(timeline=timeline, at_risk=at_risk, deaths=deaths, survival=survival, greenwood=greenwood,
                        lower=np.where(np.isnan(lower), 1.0, lower), upper=np.where(np.isnan(upper), 1.0, upper))


def _at_risk(entry: np.ndarray, stop: np.ndarray, times: np.ndarray) -> np.ndarray:
    entered = np.searchsorted(np.sort(entry), times, side="left")
    left = np.searchsorted(np.sort(stop), times, side="left")
    return entered - left


@dataclass(frozen=True)
class SimonMakuch:
    endpoint: str
    n: int
    moved_to_hsct: int       # transplanted during follow-up: in the no-HSCT curve first, then in the HSCT curve
    hsct_at_start: int       # transplanted on day 0: in the HSCT curve only
    curves: tuple[SurvivalCurve | TooFewPatients, ...]    # No HSCT, HSCT
    conf_level: float
    method: str = SIMON_MAKUCH_METHOD


def simon_makuch(durations_days: Sequence[float] | np.ndarray, events: Sequence[bool] | np.ndarray,
                 hsct_days: Sequence[float] | np.ndarray, *, endpoint: str = "os", conf_level: float = 0.95,
                 landmark_months: Sequence[float] = (6.0, 12.0),
                 table_months: Sequence[float] | None = None, grouping: str = "hsct") -> SimonMakuch:
    """Curves by HSCT (or another event during follow-up, named by `grouping`) as a time-dependent state.

    In each curve n counts the patients with follow-up in that state and `censored` = n − events,
    which in the no-HSCT curve includes the moves to HSCT; censor_times are ends of follow-up only
    (a move to HSCT is not a censoring mark).
    """
    intervals = hsct_intervals(durations_days, events, hsct_days)
    durations = np.asarray(durations_days, dtype=float)
    if table_months is None:
        table_months = default_table_months(float(durations.max()) / DAYS_PER_MONTH if len(durations) else 12.0)
    ends_follow_up = intervals.stop == durations[intervals.patient]
    curves = tuple(_state_curve(intervals, state, ends_follow_up, endpoint=endpoint, conf_level=conf_level,
                                landmark_months=landmark_months, table_months=table_months, grouping=grouping)
                   for state in (False, True))
    hsct = np.asarray(hsct_days, dtype=float)
    return SimonMakuch(endpoint=endpoint, n=len(durations),
                       moved_to_hsct=int(((hsct > 0) & (hsct < durations)).sum()),
                       hsct_at_start=int((hsct == 0).sum()), curves=curves, conf_level=conf_level)


def _state_curve(intervals: HsctIntervals, state: bool, ends_follow_up: np.ndarray, *, endpoint: str,
                 conf_level: float, landmark_months: Sequence[float],
                 table_months: Sequence[float], grouping: str = "hsct") -> SurvivalCurve | TooFewPatients:
    label = group_label(grouping, state)
    rows = intervals.hsct == state
    entry, stop, event = intervals.entry[rows], intervals.stop[rows], intervals.event[rows]
    n = int(rows.sum())
    if n < MIN_PATIENTS_CURVE:
        return TooFewPatients(what=f"{endpoint_title(endpoint)} — {label}", n=n,
                              needed=MIN_PATIENTS_CURVE)
    curve = product_limit_with_entry(entry, stop, event, conf_level=conf_level)
    months = curve.timeline / DAYS_PER_MONTH

    def first_at_or_below(values: np.ndarray) -> float | None:
        below = np.flatnonzero(values <= 0.5)
        return float(months[below[0]]) if len(below) and values[-1] <= 0.5 else None

    def rate(t: float) -> LandmarkRate:
        days = t * DAYS_PER_MONTH
        at_risk = int(_at_risk(entry, stop, np.array([days]))[0])
        if days > float(stop.max()):
            return LandmarkRate(months=t, estimate=None, lower=None, upper=None, at_risk=at_risk)
        i = int(np.searchsorted(curve.timeline, days, side="right")) - 1
        return LandmarkRate(months=t, estimate=float(curve.survival[i]), lower=float(curve.lower[i]),
                            upper=float(curve.upper[i]), at_risk=at_risk)

    table_days = np.asarray(table_months, dtype=float) * DAYS_PER_MONTH
    table = AtRiskTable(
        months=tuple(float(t) for t in table_months),
        at_risk=tuple(int(x) for x in _at_risk(entry, stop, table_days)),
        events=tuple(int((event & (stop <= t)).sum()) for t in table_days),
        censored=tuple(int((~event & (stop <= t)).sum()) for t in table_days),
    )
    events = int(event.sum())
    return SurvivalCurve(
        endpoint=endpoint, label=label, n=n, events=events, censored=n - events, excluded=0,
        timeline=tuple(months.tolist()), survival=tuple(curve.survival.tolist()), lower=tuple(curve.lower.tolist()),
        upper=tuple(curve.upper.tolist()), at_risk_on_timeline=tuple(int(x) for x in curve.at_risk),
        censor_times=tuple((np.unique(stop[~event & ends_follow_up[rows]]) / DAYS_PER_MONTH).tolist()),
        median=MedianEstimate(value=first_at_or_below(curve.survival), lower=first_at_or_below(curve.lower),
                              upper=first_at_or_below(curve.upper)),
        landmarks=tuple(rate(t) for t in landmark_months), at_risk_table=table, conf_level=conf_level,
        method=f"{KM_METHOD}, {SIMON_MAKUCH_METHOD}")


@dataclass(frozen=True)
class LandmarkAnalysis:
    endpoint: str
    landmark_days: float
    included: int                # under follow-up at the landmark (time ≥ landmark)
    excluded_events: int         # the event before the landmark
    excluded_censored: int       # censored before the landmark
    hsct_by_landmark: int        # of the included, transplanted on or before the landmark
    curves: tuple[SurvivalCurve | TooFewPatients, ...]   # No HSCT, HSCT by the landmark; months from it
    comparison: GroupComparison | None
    conf_level: float
    method: str = LANDMARK_METHOD

    @property
    def landmark_months(self) -> float:
        return self.landmark_days / DAYS_PER_MONTH

    @property
    def excluded(self) -> int:
        return self.excluded_events + self.excluded_censored


def landmark_analysis(durations_days: Sequence[float] | np.ndarray, events: Sequence[bool] | np.ndarray,
                      hsct_days: Sequence[float] | np.ndarray, *, landmark_days: float, endpoint: str = "os",
                      conf_level: float = 0.95, landmark_months: Sequence[float] = (6.0, 12.0),
                      compare: bool = True, grouping: str = "hsct") -> LandmarkAnalysis:
    """Kaplan–Meier from the landmark by HSCT status at the landmark; log-rank when `compare`."""
    durations, observed, hsct = _patients(durations_days, events, hsct_days)
    if not math.isfinite(landmark_days) or landmark_days < 0:
        raise ValueError(f"landmark {landmark_days} days is not a non-negative number of days")
    included = durations >= landmark_days
    by_landmark = included & (hsct <= landmark_days)        # NaN (no HSCT) compares False
    from_landmark = (durations[included] - landmark_days) / DAYS_PER_MONTH
    table_months = default_table_months(float(from_landmark.max()) if len(from_landmark) else 12.0)
    curves = []
    for state in (False, True):
        rows = by_landmark[included] == state
        curves.append(fit_kaplan_meier(
            from_landmark[rows], observed[included][rows], label=group_label(grouping, state), endpoint=endpoint,
            conf_level=conf_level, landmark_months=landmark_months, table_months=table_months))
    comparison = None
    if compare:
        names = np.where(by_landmark[included], group_label(grouping, True), group_label(grouping, False))
        counts = pd.DataFrame({"group": names, "months": from_landmark,
                               "event": observed[included], "n": np.ones(int(included.sum()), dtype=int)})
        comparison = compare_groups(counts)
    return LandmarkAnalysis(
        endpoint=endpoint, landmark_days=float(landmark_days), included=int(included.sum()),
        excluded_events=int((~included & observed).sum()), excluded_censored=int((~included & ~observed).sum()),
        hsct_by_landmark=int(by_landmark.sum()), curves=tuple(curves), comparison=comparison,
        conf_level=conf_level)


@dataclass(frozen=True)
class MantelByarTest:
    statistic: float | None
    p_value: float | None
    degrees_of_freedom: int | None
    suppressed_reason: str | None
    ties: Ties = "efron"
    method: str = MANTEL_BYAR_METHOD


@dataclass(frozen=True)
class HsctHazardRatio:
    """Hazard of the event after vs. before HSCT, or the reason it is not shown."""

    hazard_ratio: float | None
    lower: float | None
    upper: float | None
    coefficient: float | None        # log hazard ratio
    standard_error: float | None
    p_value: float | None            # Wald
    n: int                           # patients
    events: int
    transplanted: int                # patients with follow-up after HSCT
    events_after_hsct: int
    suppressed_reason: str | None
    conf_level: float = 0.95
    ties: Ties = "efron"
    method: str = COX_METHOD

    def format(self) -> str:
        if self.hazard_ratio is None:
            return "—"
        return (f"HR {self.hazard_ratio:.2f} ({round(self.conf_level * 100):d}% CI "
                f"{self.lower:.2f}–{self.upper:.2f})")


def mantel_byar_test(durations_days: Sequence[float] | np.ndarray, events: Sequence[bool] | np.ndarray,
                     hsct_days: Sequence[float] | np.ndarray, *, ties: Ties = "efron") -> MantelByarTest:
    """U(0)² / I(0) of the Cox partial likelihood with HSCT time-dependent (R: coxph(...)$score)."""
    intervals = hsct_intervals(durations_days, events, hsct_days)
    reason = _too_few(intervals, min_events=1)
    if reason:
        return MantelByarTest(statistic=None, p_value=None, degrees_of_freedom=None, suppressed_reason=reason,
                              ties=ties)
    _, score, information = _partial_likelihood(_risk_table(intervals), 0.0, ties)
    if not information > 0:
        return MantelByarTest(statistic=None, p_value=None, degrees_of_freedom=None, ties=ties,
                              suppressed_reason="at no event time are patients with and without HSCT both at risk")
    statistic = score ** 2 / information
    return MantelByarTest(statistic=statistic, p_value=float(chi2.sf(statistic, 1)), degrees_of_freedom=1,
                          suppressed_reason=None, ties=ties)


class _HsctCounts(TypedDict):
    """The counts every HsctHazardRatio carries, shown or suppressed."""

    n: int
    events: int
    transplanted: int
    events_after_hsct: int


def hsct_hazard_ratio(durations_days: Sequence[float] | np.ndarray, events: Sequence[bool] | np.ndarray,
                      hsct_days: Sequence[float] | np.ndarray, *, conf_level: float = 0.95,
                      ties: Ties = "efron") -> HsctHazardRatio:
    """Maximum partial likelihood by Newton–Raphson with step halving, as coxph; variance 1 / I(β̂)."""
    intervals = hsct_intervals(durations_days, events, hsct_days)
    counts = _HsctCounts(n=len(np.asarray(durations_days)), events=int(intervals.event.sum()),
                         transplanted=int(intervals.hsct.sum()),
                         events_after_hsct=int((intervals.event & intervals.hsct).sum()))
    reason = _too_few(intervals, min_events=MIN_EVENTS_COX)
    if reason is None:
        for state, words in ((True, "after HSCT"), (False, "without HSCT")):
            if not (intervals.event & (intervals.hsct == state)).any():
                reason = f"no events {words}, so the hazard ratio is not estimable"
    if reason:
        return HsctHazardRatio(hazard_ratio=None, lower=None, upper=None, coefficient=None, standard_error=None,
                               p_value=None, suppressed_reason=reason, conf_level=conf_level, ties=ties, **counts)
    table = _risk_table(intervals)
    beta = 0.0
    loglik, score, information = _partial_likelihood(table, beta, ties)
    for _ in range(50):
        if not information > 0 or abs(beta) > MAX_LOG_HAZARD_RATIO:
            break           # monotone likelihood: β runs off and the curvature vanishes (judged below)
        # a step beyond the cap cannot end in an estimate, and exp(β) of a huge step overflows
        step = min(max(score / information, -MAX_LOG_HAZARD_RATIO), MAX_LOG_HAZARD_RATIO)
        candidate = _partial_likelihood(table, beta + step, ties)
        while candidate[0] < loglik and abs(step) > 1e-12:     # step halving, as coxph
            step /= 2
            candidate = _partial_likelihood(table, beta + step, ties)
        beta += step
        loglik, score, information = candidate
        if abs(step) < 1e-12:
            break
    se = math.sqrt(1.0 / information) if information > 0 else math.inf
    z = float(norm.ppf(1 - (1 - conf_level) / 2))
    if not (math.isfinite(beta) and math.isfinite(se)) or abs(beta) + z * se > MAX_LOG_HAZARD_RATIO:
        # monotone likelihood: the estimate runs off to 0 or infinity (e.g. every event in one state)
        return HsctHazardRatio(hazard_ratio=None, lower=None, upper=None, coefficient=None, standard_error=None,
                               p_value=None, suppressed_reason="the model does not converge (the hazard ratio runs "
                               "off to 0 or infinity in this slice)", conf_level=conf_level, ties=ties, **counts)
    return HsctHazardRatio(hazard_ratio=math.exp(beta), lower=math.exp(beta - z * se), upper=math.exp(beta + z * se),
                           coefficient=beta, standard_error=se, p_value=float(2 * norm.sf(abs(beta / se))),
                           suppressed_reason=None, conf_level=conf_level, ties=ties, **counts)


def _too_few(intervals: HsctIntervals, *, min_events: int) -> str | None:
    transplanted, not_transplanted = int(intervals.hsct.sum()), int((~intervals.hsct).sum())
    if transplanted < MIN_PATIENTS_PER_STATE:
        return (f"{transplanted} patients have follow-up after HSCT "
                f"(at least {MIN_PATIENTS_PER_STATE} needed)")
    if not_transplanted < MIN_PATIENTS_PER_STATE:
        return (f"{not_transplanted} patients have follow-up without HSCT "
                f"(at least {MIN_PATIENTS_PER_STATE} needed)")
    events = int(intervals.event.sum())
    if events == 0:
        return "no events in this slice"
    if events < min_events:
        return f"{events} events in this slice (at least {min_events} needed for a hazard ratio)"
    return None


def _risk_table(intervals: HsctIntervals) -> np.ndarray:
    """Per distinct event time: at risk without and with HSCT, events without and with HSCT."""
    times = np.unique(intervals.stop[intervals.event])
    columns = []
    for state in (False, True):
        rows = intervals.hsct == state
        columns.append(_at_risk(intervals.entry[rows], intervals.stop[rows], times))
    for state in (False, True):
        rows = intervals.event & (intervals.hsct == state)
        columns.append(np.bincount(np.searchsorted(times, intervals.stop[rows]), minlength=len(times)))
    return np.column_stack(columns).astype(float)


def _partial_likelihood(table: np.ndarray, beta: float, ties: Ties) -> tuple[float, float, float]:
    """Log partial likelihood, score and information at β for the one binary covariate.

    Efron: the d tied events at a time share the risk set, whose weight drops by the r/d fraction
    of their own weight for r = 0 … d − 1; Breslow keeps the full risk set for all d.
    """
    n0, n1, d0, d1 = table.T
    d = (d0 + d1).astype(int)
    row = np.repeat(np.arange(len(d)), d)
    r = np.arange(d.sum()) - np.repeat(np.cumsum(d) - d, d)
    fraction = r / d[row] if ties == "efron" else np.zeros(len(row))
    with_hsct = (n1[row] - fraction * d1[row]) * math.exp(beta)
    total = (n0[row] - fraction * d0[row]) + with_hsct
    mean = with_hsct / total
    loglik = float(beta * d1.sum() - np.log(total).sum())
    return loglik, float(d1.sum() - mean.sum()), float((mean * (1 - mean)).sum())


def _patients(durations_days: Sequence[float] | np.ndarray, events: Sequence[bool] | np.ndarray,
              hsct_days: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated per-patient arrays: duration ≥ 0, event, HSCT day (NaN = none) within follow-up."""
    durations = np.asarray(durations_days, dtype=float)
    observed = np.asarray(events, dtype=bool)
    hsct = np.asarray(hsct_days, dtype=float)
    if not len(durations) == len(observed) == len(hsct):
        raise ValueError(f"durations, events and HSCT days differ in length "
                         f"({len(durations)}, {len(observed)}, {len(hsct)}); give one value per patient")
    bad = np.flatnonzero(~np.isfinite(durations) | (durations < 0))
    if len(bad):
        raise ValueError(f"patient {bad[0]}: duration {durations[bad[0]]} is not a non-negative number of days")
    bad = np.flatnonzero((hsct < 0) | (hsct > durations) | np.isinf(hsct))
    if len(bad):
        raise ValueError(f"patient {bad[0]}: HSCT on day {hsct[bad[0]]} is outside follow-up "
                         f"(0 to {durations[bad[0]]} days); leave it empty when there was no HSCT")
    return durations, observed, hsct
