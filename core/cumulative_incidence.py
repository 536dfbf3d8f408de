"""Cumulative incidence with competing risks: Aalen–Johansen, cmprsk's variance, Gray's test.

When a patient can leave the event-free state in more than one way (relapse, or death in
remission), 1 − Kaplan–Meier of one cause overstates that cause's incidence: it treats the other
cause as censoring. The cumulative incidence function (CIF) of cause k is

    F_k(t) = Σ_{t_j ≤ t} S(t_j−) · d_kj / n_j

with S the Kaplan–Meier estimate of being free of every event (core.survival.product_limit, on
all causes pooled), n_j the patients at risk and d_kj the events of cause k at t_j (Aalen–Johansen;
the estimate cmprsk::cuminc and survival::survfit give). The CIFs of all causes and S sum to 1.

Input is what SQL aggregates: rows of (time in days, cause, number of patients), cause 0 meaning
censored; raw rows are the special case n = 1. Ties need no jitter: all rows at one time are one
step, as in cmprsk (lifelines' AalenJohansenFitter shifts tied times, so it is not used).

Variance: cmprsk::cuminc's estimator (Gray's delta method with its tie correction), which changes
only at the cause's own event times; 95% CI by the log(−log) transform F^exp(±z·√var / (F·log F))
that cmprsk users and tidycmprsk compute (Pintilie 2006), undefined (NaN / None) where F is 0 or 1.
Gray's test reproduces cmprsk's crstm (score and variance summed over strata, s'V⁻¹s on
groups − 1 degrees of freedom). tests/test_competing_risks.py holds all of it to the values
scripts/r_golden_values.R stores from R.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from core.contract import DAYS_PER_MONTH
from core.groupings import group_label
from core.results import TooFewPatients
from core.survival import (
    MIN_PATIENTS_CURVE,
    MIN_PATIENTS_LOGRANK,
    AtRiskTable,
    default_table_months,
    product_limit,
)

CENSORED = 0
CIF_METHOD = "Aalen–Johansen cumulative incidence (as cmprsk::cuminc)"
VARIANCE_METHOD = "cmprsk::cuminc variance (Gray's delta-method estimator with tie correction)"
CI_METHOD = "log(−log) transform F^exp(±z·√var / (F·log F)) (Pintilie 2006; as tidycmprsk)"
GRAY_METHOD = "Gray's test (as cmprsk::cuminc; exploratory, not adjusted for multiplicity)"
MIN_PATIENTS_GRAY = MIN_PATIENTS_LOGRANK   # per group, the policy of the log-rank test


@dataclass(frozen=True)
class AalenJohansen:
    """The estimate on its timeline (days: 0 and every distinct time), one column per cause."""

    timeline: np.ndarray        # days
    at_risk: np.ndarray
    events: np.ndarray          # (time, cause) counts
    censored: np.ndarray
    event_free: np.ndarray      # S(t): Kaplan–Meier of being free of every event
    incidence: np.ndarray       # (time, cause) F_k(t)
    variance: np.ndarray        # (time, cause) cmprsk's variance of F_k(t)
    causes: tuple[int, ...]


def aalen_johansen(durations_days: Sequence[float] | np.ndarray, causes: Sequence[int] | np.ndarray,
                   weights: Sequence[float] | np.ndarray | None = None, *,
                   causes_of_interest: Sequence[int] | None = None) -> AalenJohansen:
    """CIF of every cause and its cmprsk variance from rows of (time, cause, number of patients)."""
    durations, kinds, counts = _rows(durations_days, causes, weights)
    present = sorted({int(k) for k in kinds[kinds != CENSORED]})
    wanted = tuple(present if causes_of_interest is None else (int(k) for k in causes_of_interest))
    if CENSORED in wanted:
        raise ValueError(f"cause {CENSORED} means censored and has no cumulative incidence; "
                         "ask for the event causes (1, 2, …)")
    km = product_limit(durations, kinds != CENSORED, counts)
    step = np.searchsorted(km.timeline, durations)
    size = len(km.timeline)
    n, s = km.at_risk, km.survival
    s_before = np.concatenate(([1.0], s[:-1]))
    any_event = km.deaths
    censored = np.bincount(step, weights=np.where(kinds == CENSORED, counts, 0.0), minlength=size)
    events = np.zeros((size, len(wanted)))
    incidence = np.zeros_like(events)
    variance = np.zeros_like(events)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_s = np.where(s > 0, 1.0 / s, 0.0)    # cmprsk drops 1/S once no one is left
        for column, cause in enumerate(wanted):
            d = np.bincount(step, weights=np.where(kinds == cause, counts, 0.0), minlength=size)
            f = np.cumsum(np.where(d > 0, s_before * d / n, 0.0))
            other = any_event - d
            # Gray's variance: three running sums, each step weighted by S(t−)²·d/n² with the tie
            # correction 1 − (d − 1)/(n − 1); competing events only while someone is left.
            w_other = np.where((other > 0) & (s > 0), s_before ** 2 * _ties(other, n) * other / n ** 2, 0.0)
            w_cause = np.where(d > 0, s_before ** 2 * _ties(d, n) * d / n ** 2, 0.0)
            a_other, a_cause = f * inv_s, 1.0 + f * inv_s
            v1 = np.cumsum(w_other * a_other ** 2 + w_cause * a_cause ** 2)
            v2 = np.cumsum(w_other * a_other * inv_s + w_cause * a_cause * inv_s)
            v3 = np.cumsum((w_other + w_cause) * inv_s ** 2)
            at_event = v1 + f ** 2 * v3 - 2.0 * f * v2
            # cmprsk reports the variance at the cause's own event times and carries it between them
            last = np.maximum.accumulate(np.where(d > 0, np.arange(size), -1))
            events[:, column] = d
            incidence[:, column] = f
            variance[:, column] = np.where(last >= 0, at_event[np.maximum(last, 0)], 0.0)
    return AalenJohansen(timeline=km.timeline, at_risk=n, events=events, censored=censored, event_free=s,
                         incidence=incidence, variance=variance, causes=wanted)


def _ties(d: np.ndarray, n: np.ndarray) -> np.ndarray:
    return np.where(d > 1, 1.0 - (d - 1.0) / (n - 1.0), 1.0)


def log_log_band(estimate: np.ndarray, variance: np.ndarray, conf_level: float = 0.95
                 ) -> tuple[np.ndarray, np.ndarray]:
    """F^exp(∓z·se / (F·log F)): inside (0, 1); NaN where F is 0 or 1 (the transform is undefined)."""
    z = float(norm.ppf(1 - (1 - conf_level) / 2))
    estimate = np.asarray(estimate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):   # F near 0: the lower bound is 0
        scale = z * np.sqrt(variance) / (estimate * np.log(estimate))
        lower = estimate ** np.exp(-scale)
        upper = estimate ** np.exp(scale)
    undefined = (estimate <= 0) | (estimate >= 1)
    return np.where(undefined, np.nan, lower), np.where(undefined, np.nan, upper)


@dataclass(frozen=True)
class IncidenceAt:
    """F_k(t) with its variance and CI; estimate None when follow-up does not reach t."""

    months: float
    estimate: float | None
    variance: float | None
    lower: float | None         # None also where the band is undefined (estimate 0)
    upper: float | None
    at_risk: int                # patients free of every event and still followed at t

    def format(self) -> str:
        if self.estimate is None:
            return "—"
        if self.lower is None or self.upper is None:
            return f"{100 * self.estimate:.1f}%"
        return f"{100 * self.estimate:.1f}% ({100 * self.lower:.1f}–{100 * self.upper:.1f})"


@dataclass(frozen=True)
class CauseIncidence:
    cause: int
    label: str
    events: int
    incidence: tuple[float, ...]     # on the curve's timeline
    variance: tuple[float, ...]
    lower: tuple[float, ...]         # NaN where the band is undefined (estimate 0 or 1)
    upper: tuple[float, ...]
    at_months: tuple[IncidenceAt, ...]

    def at(self, months: float) -> IncidenceAt:
        for rate in self.at_months:
            if math.isclose(rate.months, months):
                return rate
        raise KeyError(f"no estimate at {months} months")


@dataclass(frozen=True)
class CumulativeIncidence:
    label: str
    n: int
    censored: int
    excluded: int                      # in the population but without a usable time
    timeline: tuple[float, ...]        # months, starting at 0
    event_free: tuple[float, ...]      # S(t), free of every event
    at_risk_on_timeline: tuple[int, ...]
    causes: tuple[CauseIncidence, ...]
    censor_times: tuple[float, ...]    # months
    at_risk_table: AtRiskTable         # events = cumulative events of any cause
    conf_level: float = 0.95
    method: str = CIF_METHOD
    variance_method: str = VARIANCE_METHOD
    ci_method: str = CI_METHOD

    @property
    def events(self) -> int:
        return sum(c.events for c in self.causes)

    def cause(self, cause: int) -> CauseIncidence:
        for curve in self.causes:
            if curve.cause == cause:
                return curve
        raise KeyError(f"no cause {cause}; causes are {[c.cause for c in self.causes]}")


def fit_cumulative_incidence(durations_days: Sequence[float] | np.ndarray, causes: Sequence[int] | np.ndarray, *,
                             weights: Sequence[float] | np.ndarray | None = None,
                             cause_labels: Mapping[int, str] | None = None, label: str = "All patients",
                             conf_level: float = 0.95, landmark_months: Sequence[float] = (6.0, 12.0),
                             table_months: Sequence[float] | None = None,
                             excluded: int = 0) -> CumulativeIncidence | TooFewPatients:
    """One set of CIFs (every cause in `cause_labels`, else every cause present), days in, months out."""
    durations, kinds, counts = _rows(durations_days, causes, weights)
    n = int(round(counts.sum()))
    if n < MIN_PATIENTS_CURVE:
        return TooFewPatients(what=f"Cumulative incidence — {label}", n=n, needed=MIN_PATIENTS_CURVE)
    if cause_labels is not None:
        unknown = sorted({int(k) for k in kinds} - set(cause_labels) - {CENSORED})
        if unknown:
            raise ValueError(f"cause {unknown[0]} is in the data but has no label; "
                             f"label every cause (labelled: {sorted(cause_labels)})")
    fit = aalen_johansen(durations, kinds, counts,
                         causes_of_interest=None if cause_labels is None else tuple(cause_labels))
    labels = dict(cause_labels or {})
    months = fit.timeline / DAYS_PER_MONTH
    if table_months is None:
        table_months = default_table_months(float(months.max()))
    at_risk_line = _at_risk(durations, counts, fit.timeline)
    curves = []
    for column, cause in enumerate(fit.causes):
        f, v = fit.incidence[:, column], fit.variance[:, column]
        lower, upper = log_log_band(f, v, conf_level)
        at = tuple(_incidence_at(fit, column, lower, upper, durations, counts, t) for t in landmark_months)
        curves.append(CauseIncidence(
            cause=cause, label=labels.get(cause, f"Cause {cause}"), events=int(round(fit.events[:, column].sum())),
            incidence=tuple(f.tolist()), variance=tuple(v.tolist()), lower=tuple(lower.tolist()),
            upper=tuple(upper.tolist()), at_months=at))
    observed = kinds != CENSORED
    table_days = np.asarray(table_months, dtype=float) * DAYS_PER_MONTH
    table = AtRiskTable(
        months=tuple(float(t) for t in table_months),
        at_risk=tuple(_at_risk(durations, counts, table_days)),
        events=tuple(int(counts[(durations <= t) & observed].sum()) for t in table_days),
        censored=tuple(int(counts[(durations <= t) & ~observed].sum()) for t in table_days),
    )
    return CumulativeIncidence(
        label=label, n=n, censored=int(round(counts[~observed].sum())), excluded=excluded,
        timeline=tuple(months.tolist()), event_free=tuple(fit.event_free.tolist()),
        at_risk_on_timeline=tuple(at_risk_line), causes=tuple(curves),
        censor_times=tuple((np.unique(durations[~observed]) / DAYS_PER_MONTH).tolist()),
        at_risk_table=table, conf_level=conf_level)


def _incidence_at(fit: AalenJohansen, column: int, lower: np.ndarray, upper: np.ndarray, durations: np.ndarray,
                  counts: np.ndarray, months: float) -> IncidenceAt:
    """The step in force at t, as cmprsk::timepoints reads it; None past the last follow-up time,
    unless every patient has had an event by then: the incidences are final from that time on."""
    # months → days can land an ulp below a whole day; snap so t = an event day reads that day's step
    days = months * DAYS_PER_MONTH * (1 + 1e-12)
    at_risk = _at_risk(durations, counts, np.array([months * DAYS_PER_MONTH * (1 - 1e-12)]))[0]
    final = float(fit.event_free[-1]) == 0.0
    if days < 0 or (months * DAYS_PER_MONTH * (1 - 1e-12) > float(durations.max()) and not final):
        return IncidenceAt(months=months, estimate=None, variance=None, lower=None, upper=None, at_risk=at_risk)
    i = int(np.searchsorted(fit.timeline, days, side="right")) - 1
    return IncidenceAt(months=months, estimate=float(fit.incidence[i, column]),
                       variance=float(fit.variance[i, column]), lower=_finite(lower[i]),
                       upper=_finite(upper[i]), at_risk=at_risk)


@dataclass(frozen=True)
class GrayTest:
    """Gray's K-sample test for one cause, or the reason it is not shown."""

    cause: int
    label: str
    statistic: float | None
    p_value: float | None
    degrees_of_freedom: int | None
    suppressed_reason: str | None
    rho: float = 0.0
    method: str = GRAY_METHOD


def gray_test(durations_days: Sequence[float] | np.ndarray, causes: Sequence[int] | np.ndarray,
              groups: Sequence[object] | np.ndarray, weights: Sequence[float] | np.ndarray | None = None, *,
              cause: int, label: str | None = None, strata: Sequence[object] | np.ndarray | None = None,
              rho: float = 0.0) -> GrayTest:
    """Do the groups' CIFs of `cause` differ? Suppressed below MIN_PATIENTS_GRAY patients in a group."""
    label = label or f"cause {cause}"
    group_codes, group_names = pd.factorize(pd.Series(np.asarray(groups, dtype=object)), use_na_sentinel=False)
    stratum_codes = np.zeros(len(group_codes), dtype=int) if strata is None else \
        pd.factorize(pd.Series(np.asarray(strata, dtype=object)), use_na_sentinel=False)[0]
    durations, kinds, counts, group_codes, stratum_codes = _rows(durations_days, causes, weights,
                                                                 group_codes, stratum_codes)
    sizes = np.bincount(group_codes, weights=counts, minlength=len(group_names))

    def suppressed(reason: str) -> GrayTest:
        return GrayTest(cause=cause, label=label, statistic=None, p_value=None, degrees_of_freedom=None,
                        suppressed_reason=reason, rho=rho)

    present = sizes > 0
    if present.sum() < 2:
        return suppressed("only one group in this slice")
    # the first small group in name order, as the log-rank's reason (a groupby) names it
    small = sorted(np.flatnonzero(present & (sizes < MIN_PATIENTS_GRAY)), key=lambda g: str(group_names[g]))
    if small:
        return suppressed(f"group {group_names[small[0]]} has {int(sizes[small[0]])} patients "
                          f"(at least {MIN_PATIENTS_GRAY} per group needed)")
    if not (counts * (kinds == cause)).sum():
        return suppressed(f"no {label} in this slice")
    # groups are renumbered over those present, as cuminc drops empty factor levels
    group_codes = np.searchsorted(np.flatnonzero(present), group_codes)
    n_groups = int(present.sum())
    # crstm's coding: 1 = the cause of interest, 2 = any other cause, 0 = censored
    kind = np.where(kinds == cause, 1, np.where(kinds == CENSORED, 0, 2))
    score = np.zeros(n_groups - 1)
    variance = np.zeros((n_groups - 1, n_groups - 1))
    for stratum in np.unique(stratum_codes):
        rows = stratum_codes == stratum
        s, v = _gray_score(durations[rows], kind[rows], group_codes[rows], counts[rows], n_groups, rho)
        score += s
        variance += v
    if np.linalg.matrix_rank(variance) < n_groups - 1:
        return suppressed("the groups' score variance is singular, so the test is not defined")
    statistic = float(score @ np.linalg.solve(variance, score))
    return GrayTest(cause=cause, label=label, statistic=statistic,
                    p_value=float(chi2.sf(statistic, n_groups - 1)), degrees_of_freedom=n_groups - 1,
                    suppressed_reason=None, rho=rho)


def _gray_score(durations: np.ndarray, kind: np.ndarray, group: np.ndarray, counts: np.ndarray, n_groups: int,
                rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Gray (1988)'s score for the first groups − 1 groups and its variance, in one stratum.

    Each group's CIF is compared with the pooled one through the weighted difference of the
    subdistribution hazards; the variance is the sum of the asymptotic terms of Gray's Theorem 1
    as cmprsk evaluates them (all groups carried; the last one dropped at the end).
    """
    times, step = np.unique(durations, return_inverse=True)
    d = np.zeros((3, len(times), n_groups))
    np.add.at(d, (kind, step, group), counts)
    removed = d.sum(axis=0)
    at_risk = removed.sum(axis=0) - np.vstack((np.zeros(n_groups), np.cumsum(removed, axis=0)[:-1]))
    s_before, f_before, pooled_before = np.ones(n_groups), np.zeros(n_groups), 0.0
    score = np.zeros(n_groups)
    c = np.zeros((n_groups, n_groups))
    v = np.zeros((n_groups, n_groups))
    v2 = np.zeros((n_groups, n_groups))
    v3 = np.zeros(n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in np.flatnonzero(d[1].sum(axis=1) + d[2].sum(axis=1) > 0):
            n, d1, d2 = at_risk[j], d[1, j], d[2, j]
            nd1, nd2 = d1.sum(), d2.sum()
            live = n > 0
            s = np.where(live, s_before * (n - d1 - d2) / n, s_before)
            f = np.where(live, f_before + s_before * d1 / n, f_before)
            h = np.where(live, n / s_before, 0.0)                      # Gray's ĥ_r
            r = np.where(live, n * (1.0 - f_before) / s_before, 0.0)   # Gray's R_r
            total_h, total_r = h.sum(), r.sum()
            pooled = pooled_before + nd1 / total_h
            weight = (1.0 - pooled_before) ** rho
            a = -weight * np.outer(h, h) / total_h
            a[np.diag_indices(n_groups)] = weight * h * (1.0 - h / total_h)
            c += a * nd1 / (total_h * (1.0 - pooled_before))
            score += weight * (d1 - nd1 * r / total_r)
            if nd1 > 0:
                t4 = np.where(s > 0, 1.0 - (1.0 - pooled) / s, 1.0)
                t5 = 1.0 - (nd1 - 1.0) / (total_h * s_before - 1.0) if nd1 > 1 else np.ones(n_groups)
                t3 = np.where(live, t5 * s_before * nd1 / (total_h * n), 0.0)
                v3 += t4 ** 2 * t3
                t1 = a - c * t4
                v2 += t1 * (t4 * t3)
                v += (t1 * t3) @ t1.T
            if nd2 > 0:
                other = (s > 0) & (d2 > 0)
                t4 = np.where(other, (1.0 - pooled) / s, 0.0)
                t3 = np.where(other, _ties(d2, n) * s_before ** 2 * d2 / n ** 2, 0.0)
                v3 += t4 ** 2 * t3
                t1 = c * t4
                v2 -= t1 * (t4 * t3)
                v += (t1 * t3) @ t1.T
            s_before, f_before, pooled_before = s, f, pooled
    v += (c * v3) @ c.T + c @ v2.T + v2 @ c.T
    return score[:-1], v[:-1, :-1]


@dataclass(frozen=True)
class CompetingRisksAnalysis:
    title: str
    grouping: str
    cause_labels: tuple[tuple[int, str], ...]
    curves: tuple[CumulativeIncidence | TooFewPatients, ...]
    comparisons: tuple[GrayTest, ...]     # one per cause; () when not compared
    conf_level: float

    @property
    def fitted(self) -> list[CumulativeIncidence]:
        return [c for c in self.curves if isinstance(c, CumulativeIncidence)]


def estimate_cumulative_incidence(counts: pd.DataFrame, *, cause_labels: Mapping[int, str], by: str = "all",
                                  excluded: pd.DataFrame | None = None, title: str = "Cumulative incidence",
                                  compare: bool = False, group_order: Sequence[object] | None = None,
                                  conf_level: float = 0.95, landmark_months: Sequence[float] = (6.0, 12.0)
                                  ) -> CompetingRisksAnalysis:
    """CIFs per group of `by` from SQL counts: columns group, duration_days, cause, n.

    `excluded` (columns group, n) counts patients without a usable time, as fetch_survival_counts
    returns them; Gray's test per cause when `compare` and there is a grouping.
    """
    missing = {"group", "duration_days", "cause", "n"} - set(counts.columns)
    if missing:
        raise ValueError(f"counts lack the column(s) {sorted(missing)}; expected group, duration_days, cause, n")
    durations = counts["duration_days"].to_numpy(dtype=float)
    kinds = counts["cause"].to_numpy(dtype=int)
    patients = counts["n"].to_numpy(dtype=float)
    excluded_by_group = {} if excluded is None or not len(excluded) else dict(zip(excluded["group"], excluded["n"]))
    horizon = float(durations.max()) / DAYS_PER_MONTH if len(durations) else 12.0
    table_months = default_table_months(horizon)
    codes, uniques = pd.factorize(counts["group"], use_na_sentinel=False)
    groups = list(uniques)
    if group_order is not None:
        groups = [g for g in group_order if g in groups] + [g for g in groups if g not in group_order]
    curves: list[CumulativeIncidence | TooFewPatients] = []
    for group in groups:
        rows = codes == list(uniques).index(group)
        curves.append(fit_cumulative_incidence(
            durations[rows], kinds[rows], weights=patients[rows], cause_labels=cause_labels,
            label=group_label(by, group), conf_level=conf_level, landmark_months=landmark_months,
            table_months=table_months, excluded=int(excluded_by_group.get(group, 0))))
    if not groups:
        curves.append(TooFewPatients(what=title, n=0, needed=MIN_PATIENTS_CURVE))
    comparisons: tuple[GrayTest, ...] = ()
    if compare and by != "all":
        group_names = np.array([group_label(by, g) for g in uniques], dtype=object)[codes]
        comparisons = tuple(gray_test(durations, kinds, group_names, patients, cause=cause, label=name.lower())
                            for cause, name in cause_labels.items())
    return CompetingRisksAnalysis(title=title, grouping=by, cause_labels=tuple(cause_labels.items()),
                                  curves=tuple(curves), comparisons=comparisons, conf_level=conf_level)


def _rows(durations_days: Sequence[float] | np.ndarray, causes: Sequence[int] | np.ndarray,
          weights: Sequence[float] | np.ndarray | None, *alongside: np.ndarray) -> tuple[np.ndarray, ...]:
    """Validated (time, cause, count) arrays, and any `alongside` arrays, without rows of zero patients."""
    durations = np.asarray(durations_days, dtype=float)
    raw = np.asarray(causes)
    counts = np.ones_like(durations) if weights is None else np.asarray(weights, dtype=float)
    lengths = {len(durations), len(raw), len(counts), *(len(a) for a in alongside)}
    if len(lengths) > 1:
        raise ValueError(f"times, causes, counts and groups differ in length ({sorted(lengths)}); "
                         "give one value per row")
    bad = np.flatnonzero(~np.isfinite(durations) | (durations < 0))
    if len(bad):
        raise ValueError(f"row {bad[0]}: time {durations[bad[0]]} is not a non-negative number of days")
    kinds = raw.astype(float)
    bad = np.flatnonzero(~np.isfinite(kinds) | (kinds < 0) | (kinds != np.round(kinds)))
    if len(bad):
        raise ValueError(f"row {bad[0]}: cause {raw.tolist()[bad[0]]!r} is not 0 (censored) or an event number 1, 2, …")
    bad = np.flatnonzero(~np.isfinite(counts) | (counts < 0))
    if len(bad):
        raise ValueError(f"row {bad[0]}: patient count {counts[bad[0]]} is not a non-negative number")
    keep = counts > 0
    return (durations[keep], kinds[keep].astype(int), counts[keep], *(np.asarray(a)[keep] for a in alongside))


def _at_risk(durations: np.ndarray, counts: np.ndarray, days: np.ndarray) -> list[int]:
    """Patients still free of every event and under follow-up at each time (time ≥ t)."""
    order = np.argsort(durations, kind="stable")
    before = np.concatenate(([0.0], np.cumsum(counts[order])))
    index = np.searchsorted(durations[order], np.asarray(days, dtype=float), side="left")
    return [int(round(v)) for v in before[-1] - before[index]]


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
