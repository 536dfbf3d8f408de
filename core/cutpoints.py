"""Where to split a continuous baseline variable: every threshold's figures, and the best one honestly.

`cutpoint_scan` splits the slice at every candidate threshold of marrow blasts, cycle-1 dose or age
(below = value < threshold, above = value ≥ threshold, the way the blast-burden filter splits) and
gives each side's CR/CRi with its exact CI and OS at 6 and 12 months with the Kaplan–Meier band;
the paper's 50% blast split is among the rows and marked. Patients whose value is missing are
counted (`n_missing`) and left out of both sides.

`best_cutpoint` answers "which threshold separates best?" with the maximally selected rank
statistic (core.maxstat) and a p-value corrected for having tried every threshold, and always
with `CUTPOINT_WARNING`: a threshold chosen because it separates these patients best overstates
the difference it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import norm

from core.contract import DAYS_PER_MONTH, DEFAULT_BLAST_THRESHOLD
from core.database import Cohort
from core.endpoints import EndpointOptions
from core.filters import FilterSpec
from core.groupings import format_number, group_label
from core.maxstat import (
    DEFAULT_PERMUTATIONS,
    DEFAULT_SEED,
    EXACT_LIMIT,
    MaxPValue,
    PMethod,
    corrected_p_value,
    logrank_scores,
    maximally_selected,
)
from core.queries import fetch_cutpoint_counts
from core.results import ProportionEstimate, TooFewPatients, proportion
from core.survival import LandmarkRate, SurvivalCurve, fit_kaplan_meier

Outcome = Literal["cr_cri", "os"]
OUTCOMES: dict[str, str] = {"cr_cri": "CR/CRi", "os": "overall survival"}
VALUE_DECIMALS = 9      # sums of doses (0.8 + 0.5 + 0.5) must tie with 1.8
MIN_PATIENTS_SPLIT = 4  # below this no split has two patients on each side

CUTPOINT_WARNING = (
    "This threshold was picked because it separates these patients best, so the difference it shows is "
    "overstated: searched this way, data with no real difference would still offer a split that looks "
    "convincing, and the estimates on each side lean apart. The p-value allows for having tried every "
    "threshold; the CR/CRi and survival figures at the threshold do not. Treat it as a threshold to test in "
    "other patients, not as a finding."
)


@dataclass(frozen=True)
class CutpointVariable:
    key: str                         # a column of patient_endpoints (core.queries.CUTPOINT_COLUMNS)
    title: str
    unit: str
    reference: float | None = None   # a threshold to mark, e.g. the paper's 50% blasts
    reference_label: str = ""
    below: Callable[[float], str] | None = None   # "Blasts < 50%"
    above: Callable[[float], str] | None = None

    def label(self, threshold: float, side: Literal["below", "above"]) -> str:
        make = self.below if side == "below" else self.above
        if make is not None:
            return make(threshold)
        return f"{self.title} {'<' if side == 'below' else '≥'} {format_number(threshold)} {self.unit}"


CUTPOINT_VARIABLES: dict[str, CutpointVariable] = {v.key: v for v in (
    # blast labels are the blast-burden grouping's own, so the split at 50% reads as the Response page does
    CutpointVariable("blast_pct", "Bone-marrow blasts", "%", reference=DEFAULT_BLAST_THRESHOLD,
                     reference_label="the paper's split",
                     below=lambda t: group_label("blast_burden", "low", blast_threshold=t),
                     above=lambda t: group_label("blast_burden", "high", blast_threshold=t)),
    CutpointVariable("cycle1_dose_mg_m2", "Cycle-1 dose", "mg/m²"),
    CutpointVariable("age_years", "Age", "y"),
)}


@dataclass(frozen=True)
class OsLandmarks:
    """OS of one side at the landmark months (Kaplan–Meier, lifelines' default band)."""

    n: int                           # patients with a usable OS duration
    excluded: int                    # patients on this side without one
    rates: tuple[LandmarkRate, ...]

    def at(self, months: float) -> LandmarkRate:
        for rate in self.rates:
            if np.isclose(rate.months, months):
                return rate
        raise KeyError(f"no landmark at {months} months")


@dataclass(frozen=True)
class CutpointRow:
    threshold: float
    label_below: str                 # "Blasts < 50%"
    label_above: str                 # "Blasts ≥ 50%"
    n_below: int
    n_above: int
    cr_cri_below: ProportionEstimate | TooFewPatients
    cr_cri_above: ProportionEstimate | TooFewPatients
    os_below: OsLandmarks | TooFewPatients
    os_above: OsLandmarks | TooFewPatients
    is_reference: bool               # the marked threshold (the paper's 50% blasts)


@dataclass(frozen=True)
class CutpointScan:
    variable: str
    title: str
    unit: str
    slice_description: str
    n: int                           # patients in the slice
    n_missing: int                   # of them, without a value (on neither side)
    observed_min: float | None
    observed_max: float | None
    landmark_months: tuple[float, ...]
    conf_level: float
    reference: float | None
    reference_label: str
    rows: tuple[CutpointRow, ...]

    def row_at(self, threshold: float) -> CutpointRow:
        for row in self.rows:
            if np.isclose(row.threshold, threshold):
                return row
        raise KeyError(f"no row at threshold {threshold}")


@dataclass(frozen=True)
class CandidateStatistic:
    threshold: float                 # below = value < threshold
    n_below: int
    statistic: float                 # |S − E| / √V at this split


@dataclass(frozen=True)
class BestCutpoint:
    """The split that separates the outcome best, with a p-value corrected for the search."""

    variable: str
    outcome: Outcome
    threshold: float                 # below = value < threshold (the next observed value above `last_below`)
    last_below: float                # the largest value in the lower group (R maxstat's "estimated cutpoint")
    n: int                           # patients in the test (value and outcome known)
    n_below: int
    n_above: int
    statistic: float                 # M, the maximally selected standardised statistic
    p_value: float                   # corrected for trying every admissible threshold
    p_value_unadjusted: float        # 2(1 − Φ(M)): what a test at this one threshold would say; too small
    method: str                      # in words: statistic, scores and p-value method
    p_method: PMethod
    p_detail: MaxPValue
    min_prop: float
    max_prop: float
    candidates: tuple[CandidateStatistic, ...]
    at_threshold: CutpointRow        # CR/CRi and OS each side of the chosen threshold
    warning: str = CUTPOINT_WARNING

    def describe(self) -> str:
        variable = CUTPOINT_VARIABLES[self.variable]
        return (f"Best split of {variable.title.lower()} for {OUTCOMES[self.outcome]}: "
                f"{self.at_threshold.label_below} vs {self.at_threshold.label_above} "
                f"(n = {self.n_below} vs {self.n_above}); maximally selected statistic {self.statistic:.2f}, "
                f"p = {self.p_value:.3g} corrected for {len(self.candidates)} thresholds tried "
                f"({self.p_detail.description}).")


def cutpoint_variable(key: str) -> CutpointVariable:
    try:
        return CUTPOINT_VARIABLES[key]
    except KeyError:
        raise ValueError(f"Unknown cut-point variable {key!r}; choose one of {', '.join(CUTPOINT_VARIABLES)}") from None


def cutpoint_scan(cohort: Cohort, spec: FilterSpec, variable: str, *, thresholds: Sequence[float] | None = None,
                  landmark_months: Sequence[float] = (6.0, 12.0), conf_level: float = 0.95,
                  options: EndpointOptions = EndpointOptions()) -> CutpointScan:
    """Both sides of every threshold: by default each observed value above the smallest, plus the marked one."""
    var = cutpoint_variable(variable)
    data = _Patients.fetch(cohort, spec, variable, options)
    known = data.values[data.has_value]
    lo, hi = (float(known.min()), float(known.max())) if len(known) else (None, None)
    if thresholds is None:
        chosen = set(np.unique(known)[1:].tolist())
        if var.reference is not None and lo is not None and hi is not None and lo < var.reference <= hi:
            chosen.add(var.reference)
        thresholds = sorted(chosen)
    rows = tuple(_row(data, var, float(t), tuple(landmark_months), conf_level) for t in thresholds)
    return CutpointScan(variable=variable, title=var.title, unit=var.unit, slice_description=spec.describe(),
                        n=int(data.n.sum()), n_missing=int(data.n[~data.has_value].sum()), observed_min=lo,
                        observed_max=hi, landmark_months=tuple(float(m) for m in landmark_months),
                        conf_level=conf_level, reference=var.reference, reference_label=var.reference_label,
                        rows=rows)


def best_cutpoint(cohort: Cohort, spec: FilterSpec, variable: str, *, outcome: Outcome = "os",
                  p_method: PMethod = "permutation", min_prop: float = 0.1, max_prop: float = 0.9,
                  permutations: int = DEFAULT_PERMUTATIONS, seed: int = DEFAULT_SEED,
                  exact_limit: int = EXACT_LIMIT, landmark_months: Sequence[float] = (6.0, 12.0),
                  conf_level: float = 0.95,
                  options: EndpointOptions = EndpointOptions()) -> BestCutpoint | TooFewPatients:
    """The threshold with the maximally selected statistic for CR/CRi (scores 1/0) or OS (log-rank scores).

    Only splits leaving min_prop–max_prop of the patients below are tried (R maxstat's defaults).
    """
    var = cutpoint_variable(variable)
    if outcome not in OUTCOMES:
        raise ValueError(f"Unknown outcome {outcome!r}; choose one of {', '.join(OUTCOMES)}")
    data = _Patients.fetch(cohort, spec, variable, options)
    x, scores = data.test_data(outcome)
    what = f"Best {var.title.lower()} threshold for {OUTCOMES[outcome]}"
    needed = MIN_PATIENTS_SPLIT
    if len(x) < needed or len(np.unique(x)) < 2:
        return TooFewPatients(what=what, n=len(x), needed=needed)
    try:
        selection = maximally_selected(x, scores, min_prop=min_prop, max_prop=max_prop)
    except ValueError:
        # one outcome for everybody, or no admissible split: nothing to separate
        return TooFewPatients(what=f"{what} (every patient has the same outcome or no split is admissible)",
                              n=len(x), needed=needed)
    p = corrected_p_value(selection, p_method, permutations=permutations, seed=seed, exact_limit=exact_limit)
    values = np.unique(x)
    candidates = tuple(CandidateStatistic(threshold=_next_value(values, cut), n_below=m, statistic=s)
                       for cut, m, s in zip(selection.cuts, selection.lower_sizes, selection.statistics))
    best = candidates[selection.best]
    scores_in_words = "CR/CRi as 1/0" if outcome == "cr_cri" else "log-rank scores"
    return BestCutpoint(
        variable=variable, outcome=outcome, threshold=best.threshold, last_below=selection.estimate, n=len(x),
        n_below=best.n_below, n_above=len(x) - best.n_below, statistic=selection.statistic, p_value=p.p_value,
        p_value_unadjusted=_two_sided(selection.statistic),
        method=f"maximally selected rank statistic ({scores_in_words}; Lausen & Schumacher 1992); "
               f"p-value: {p.description}",
        p_method=p_method, p_detail=p, min_prop=min_prop, max_prop=max_prop, candidates=candidates,
        at_threshold=_row(data, var, best.threshold, tuple(landmark_months), conf_level))


# ---------------------------------------------------------------------------------------------- internals
@dataclass(frozen=True)
class _Patients:
    """The slice as weighted rows: value (NaN = missing), responder, OS months (NaN = unusable), event, n."""

    values: np.ndarray
    responder: np.ndarray
    months: np.ndarray
    event: np.ndarray
    n: np.ndarray

    @classmethod
    def fetch(cls, cohort: Cohort, spec: FilterSpec, variable: str, options: EndpointOptions) -> _Patients:
        frame = fetch_cutpoint_counts(cohort, spec, variable, options)
        values = np.round(frame["value"].to_numpy(dtype=float, na_value=np.nan), VALUE_DECIMALS)
        days = frame["duration_days"].to_numpy(dtype=float, na_value=np.nan)
        return cls(values=values, responder=frame["responder"].to_numpy(dtype=bool),
                   months=days / DAYS_PER_MONTH, event=frame["event_kind"].to_numpy(dtype=float, na_value=0) == 1,
                   n=frame["n"].to_numpy(dtype=int))

    @property
    def has_value(self) -> np.ndarray:
        return ~np.isnan(self.values)

    def test_data(self, outcome: Outcome) -> tuple[np.ndarray, np.ndarray]:
        """One entry per patient: the value and the outcome score (1/0 or log-rank)."""
        keep = self.has_value if outcome == "cr_cri" else self.has_value & ~np.isnan(self.months)
        x = np.repeat(self.values[keep], self.n[keep])
        if outcome == "cr_cri":
            return x, np.repeat(self.responder[keep], self.n[keep]).astype(float)
        months = np.repeat(self.months[keep], self.n[keep])
        return x, logrank_scores(months, np.repeat(self.event[keep], self.n[keep]))


def _row(data: _Patients, var: CutpointVariable, threshold: float, landmark_months: tuple[float, ...],
         conf_level: float) -> CutpointRow:
    known = data.has_value
    below = known & (data.values < threshold)
    above = known & (data.values >= threshold)
    label_below, label_above = var.label(threshold, "below"), var.label(threshold, "above")

    def rate(side: np.ndarray, label: str) -> ProportionEstimate | TooFewPatients:
        return proportion(label, int(data.n[side & data.responder].sum()), int(data.n[side].sum()),
                          conf_level=conf_level)

    def os(side: np.ndarray, label: str) -> OsLandmarks | TooFewPatients:
        usable = side & ~np.isnan(data.months)
        curve = fit_kaplan_meier(data.months[usable], data.event[usable], weights=data.n[usable], label=label,
                                 endpoint="os", conf_level=conf_level, landmark_months=landmark_months,
                                 excluded=int(data.n[side & ~usable].sum()))
        if not isinstance(curve, SurvivalCurve):
            return curve
        return OsLandmarks(n=curve.n, excluded=curve.excluded, rates=curve.landmarks)

    return CutpointRow(threshold=threshold, label_below=label_below, label_above=label_above,
                       n_below=int(data.n[below].sum()), n_above=int(data.n[above].sum()),
                       cr_cri_below=rate(below, label_below), cr_cri_above=rate(above, label_above),
                       os_below=os(below, label_below), os_above=os(above, label_above),
                       is_reference=var.reference is not None and bool(np.isclose(threshold, var.reference)))


def _next_value(values: np.ndarray, cut: float) -> float:
    """The smallest observed value above maxstat's cut μ: the threshold t with lower group x < t."""
    return float(values[np.searchsorted(values, cut, side="right")])


def _two_sided(statistic: float) -> float:
    return float(2 * norm.sf(statistic))


__all__ = ["CUTPOINT_VARIABLES", "CUTPOINT_WARNING", "OUTCOMES", "BestCutpoint", "CandidateStatistic",
           "CutpointRow", "CutpointScan", "CutpointVariable", "OsLandmarks", "best_cutpoint", "cutpoint_scan",
           "cutpoint_variable"]
