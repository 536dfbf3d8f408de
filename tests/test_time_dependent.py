"""HSCT during follow-up: landmark, Simon–Makuch, Mantel–Byar and the time-dependent Cox model.

Golden values: R's survival package (tmerge, survfit, coxph, survdiff) on the Stanford heart
transplant data (survival::jasa, set up as in survival's time-dependent covariate vignette),
written by scripts/r_golden_values.R into tests/golden_r/. Everything agrees with R to about
1e-14; the tests allow 1e-10 (coxph stops iterating at a relative log-likelihood change of 1e-9,
this engine at a step below 1e-12; both land on the same β to ~1e-14 here).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lifelines.statistics import logrank_test

from core.contract import DAYS_PER_MONTH
from core.results import TooFewPatients
from core.survival import SurvivalCurve, default_table_months, fit_kaplan_meier, product_limit
from core.time_dependent import (
    HsctHazardRatio,
    _at_risk,
    _partial_likelihood,
    _risk_table,
    hsct_hazard_ratio,
    hsct_intervals,
    landmark_analysis,
    mantel_byar_test,
    product_limit_with_entry,
    simon_makuch,
)

GOLDEN = Path(__file__).resolve().parent / "golden_r"
JASA = pd.read_csv(GOLDEN / "jasa_hsct.csv")
DURATIONS, EVENTS, HSCT = JASA["futime"], JASA["fustat"] == 1, JASA["txtime"]
APPROX = {"rel": 1e-10, "abs": 1e-12}


def _steps(curve: SurvivalCurve, days: pd.Series) -> np.ndarray:
    """Positions on the curve's timeline (months) of R's times (days)."""
    timeline = np.array(curve.timeline) * DAYS_PER_MONTH
    positions = np.searchsorted(timeline, days.to_numpy() - 1e-9)
    np.testing.assert_allclose(timeline[positions], days, rtol=1e-12)
    return positions


# --- R: survival ---------------------------------------------------------------------------------

def test_intervals_are_tmerge_s() -> None:
    golden = pd.read_csv(GOLDEN / "jasa_counting_process.csv")
    intervals = hsct_intervals(DURATIONS, EVENTS, HSCT)
    mine = pd.DataFrame({"subject": JASA["subject"].to_numpy()[intervals.patient], "tstart": intervals.start,
                         "tstop": intervals.stop, "death": intervals.event.astype(int),
                         "trt": intervals.hsct.astype(int)}).sort_values(["subject", "tstart"], ignore_index=True)
    pd.testing.assert_frame_equal(mine, golden, check_dtype=False)


@pytest.mark.parametrize("state", [False, True])
def test_simon_makuch_matches_survfit_on_counting_process_data(state: bool) -> None:
    golden = pd.read_csv(GOLDEN / "simon_makuch_jasa.csv")
    golden = golden[golden["trt"] == int(state)]
    result = simon_makuch(DURATIONS, EVENTS, HSCT)
    curve = result.curves[int(state)]
    assert isinstance(curve, SurvivalCurve)
    assert curve.label == ("HSCT" if state else "No HSCT")
    at = _steps(curve, golden["time"])
    np.testing.assert_allclose(np.array(curve.survival)[at], golden["survival"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.array(curve.lower)[at], golden["lower"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.array(curve.upper)[at], golden["upper"], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(np.array(curve.at_risk_on_timeline)[at], golden["n_risk"])
    assert curve.events == golden["n_event"].sum()
    intervals = hsct_intervals(DURATIONS, EVENTS, HSCT)
    rows = intervals.hsct == state
    fit = product_limit_with_entry(intervals.entry[rows], intervals.stop[rows], intervals.event[rows])
    # survfit's std.err is that of −log S: the square root of the Greenwood sum
    np.testing.assert_allclose(np.sqrt(fit.greenwood[at]), golden["std_err"], rtol=1e-10, atol=1e-12)
    if state:
        assert result.moved_to_hsct + result.hsct_at_start == curve.n


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_mantel_byar_and_hazard_ratio_match_coxph(ties: str) -> None:
    golden = pd.read_csv(GOLDEN / "cox_time_dependent_jasa.csv").set_index("ties").loc[ties]
    test = mantel_byar_test(DURATIONS, EVENTS, HSCT, ties=ties)  # type: ignore[arg-type]
    assert test.statistic == pytest.approx(golden["score_statistic"], **APPROX)
    assert test.p_value == pytest.approx(golden["score_p"], **APPROX)
    assert test.degrees_of_freedom == 1
    hr = hsct_hazard_ratio(DURATIONS, EVENTS, HSCT, ties=ties)  # type: ignore[arg-type]
    assert hr.suppressed_reason is None
    assert hr.coefficient == pytest.approx(golden["coefficient"], **APPROX)
    assert hr.standard_error == pytest.approx(golden["std_err"], **APPROX)
    assert hr.hazard_ratio == pytest.approx(golden["hazard_ratio"], **APPROX)
    assert hr.lower == pytest.approx(golden["lower"], **APPROX)
    assert hr.upper == pytest.approx(golden["upper"], **APPROX)
    assert hr.p_value == pytest.approx(golden["wald_p"], **APPROX)
    assert (hr.n, hr.events) == (len(JASA), golden["events"])
    table = _risk_table(hsct_intervals(DURATIONS, EVENTS, HSCT))
    assert _partial_likelihood(table, 0.0, ties)[0] == pytest.approx(golden["loglik_null"], **APPROX)  # type: ignore[arg-type]
    assert _partial_likelihood(table, hr.coefficient, ties)[0] == pytest.approx(golden["loglik"], **APPROX)  # type: ignore[arg-type]
    if ties == "efron":
        assert hr.format() == "HR 1.13 (95% CI 0.63–2.04)"      # R: 1.133 (0.6285–2.044)


@pytest.mark.parametrize("landmark", [0, 30])
def test_landmark_matches_survfit_and_survdiff(landmark: int) -> None:
    curves = pd.read_csv(GOLDEN / "landmark_jasa.csv")
    tests = pd.read_csv(GOLDEN / "landmark_tests_jasa.csv").set_index("landmark").loc[landmark]
    result = landmark_analysis(DURATIONS, EVENTS, HSCT, landmark_days=landmark)
    assert (result.included, result.excluded, result.hsct_by_landmark) == (
        tests["included"], tests["excluded"], tests["hsct_patients"])
    assert result.excluded_events + result.excluded_censored == result.excluded
    for state, curve in zip((False, True), result.curves):
        golden = curves[(curves["landmark"] == landmark) & (curves["hsct"] == state)]
        assert isinstance(curve, SurvivalCurve)
        at = _steps(curve, golden["time"])
        np.testing.assert_allclose(np.array(curve.survival)[at], golden["survival"], rtol=1e-10, atol=1e-12)
        # R leaves the band NaN where S is 1 or 0; the house band (lifelines') reads 1 and 0 there
        defined = golden["lower"].notna().to_numpy()
        np.testing.assert_allclose(np.array(curve.lower)[at][defined], golden["lower"][defined], rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(np.array(curve.lower)[at][~defined], golden["survival"][~defined])
        np.testing.assert_array_equal(np.array(curve.at_risk_on_timeline)[at], golden["n_risk"])
    assert result.comparison is not None
    if tests["hsct_patients"] < 5:      # day 0: two transplanted on day 0 — too few for a test
        assert result.comparison.suppressed_reason == "group HSCT has 2 patients (at least 5 per group needed)"
    else:
        assert result.comparison.statistic == pytest.approx(tests["statistic"], rel=1e-9)
        assert result.comparison.p_value == pytest.approx(tests["p_value"], rel=1e-9)


# --- hand-computed cases -----------------------------------------------------------------------

# A dies day 10; B transplanted day 5, dies day 20; C censored day 10; D transplanted day 0, dies
# day 15; E transplanted and dies on day 10 (the event stays before HSCT, as tmerge has it).
TINY = {"durations": [10, 20, 10, 15, 10], "events": [True, True, False, True, True],
        "hsct": [math.nan, 5, math.nan, 0, 10]}


def test_simon_makuch_by_hand() -> None:
    result = simon_makuch(TINY["durations"], TINY["events"], TINY["hsct"], landmark_months=(6 / DAYS_PER_MONTH,))
    no_hsct, hsct = result.curves
    assert isinstance(no_hsct, SurvivalCurve) and isinstance(hsct, SurvivalCurve)
    # no HSCT: day 5 B leaves (4 at risk, no death); day 10: A, C, E at risk, A and E die → S = 1/3
    assert no_hsct.timeline == pytest.approx([0, 5 / DAYS_PER_MONTH, 10 / DAYS_PER_MONTH])
    assert no_hsct.survival == pytest.approx([1, 1, 1 / 3])
    assert no_hsct.at_risk_on_timeline == (4, 4, 3)
    assert (no_hsct.n, no_hsct.events) == (4, 2)
    assert no_hsct.censor_times == pytest.approx([10 / DAYS_PER_MONTH])     # C only; B's move is no censoring
    # HSCT: D from day 0, B from day 5; day 15: 2 at risk, D dies → 1/2; day 20: B dies → 0
    assert hsct.timeline == pytest.approx([0, 15 / DAYS_PER_MONTH, 20 / DAYS_PER_MONTH])
    assert hsct.survival == pytest.approx([1, 0.5, 0])
    assert hsct.at_risk_on_timeline == (1, 2, 1)
    assert hsct.landmark(6 / DAYS_PER_MONTH).at_risk == 2
    assert (result.moved_to_hsct, result.hsct_at_start) == (1, 1)


def test_mantel_byar_score_by_hand() -> None:
    # deaths at 10 (two, without HSCT; 3 at risk without, 2 with), 15 and 20 (with HSCT, alone at risk)
    table = _risk_table(hsct_intervals(TINY["durations"], TINY["events"], TINY["hsct"]))
    np.testing.assert_array_equal(table, [[3, 2, 2, 0], [0, 2, 0, 1], [0, 1, 0, 1]])
    # Breslow: U = 2 − (2·2/5 + 1 + 1) = −0.8, I = 2·(2/5)(3/5) = 0.48
    _, score, information = _partial_likelihood(table, 0.0, "breslow")
    assert (score, information) == pytest.approx((-0.8, 0.48))
    # Efron: the second tied death sees the risk set less half of the two: means 2/5 and 2/4
    _, score, information = _partial_likelihood(table, 0.0, "efron")
    assert (score, information) == pytest.approx((-0.9, 0.24 + 0.25))


def test_suppression_reasons() -> None:
    few = mantel_byar_test(TINY["durations"], TINY["events"], TINY["hsct"])
    assert few.statistic is None
    assert few.suppressed_reason == "2 patients have follow-up after HSCT (at least 5 needed)"
    durations = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    hsct = [math.nan] * 5 + [1, 2, 3, 4, 5]
    censored = mantel_byar_test(durations, [False] * 10, hsct)
    assert censored.suppressed_reason == "no events in this slice"
    four = hsct_hazard_ratio(durations, [True] * 4 + [False] * 6, hsct)
    assert four.suppressed_reason == "4 events in this slice (at least 5 needed for a hazard ratio)"
    assert (four.n, four.events, four.transplanted, four.hazard_ratio) == (10, 4, 5, None)
    assert four.format() == "—"
    none_after = hsct_hazard_ratio(durations, [True] * 5 + [False] * 5, hsct)
    assert none_after.suppressed_reason == "no events after HSCT, so the hazard ratio is not estimable"
    assert isinstance(none_after, HsctHazardRatio)


def test_one_patient_and_all_censored() -> None:
    one = simon_makuch([30], [True], [math.nan])
    assert all(isinstance(c, TooFewPatients) for c in one.curves)
    landmark = landmark_analysis([30], [True], [math.nan], landmark_days=0)
    assert landmark.included == 1 and isinstance(landmark.curves[0], TooFewPatients)
    censored = simon_makuch([30, 40, 50], [False] * 3, [math.nan, 10, math.nan])
    assert isinstance(censored.curves[0], SurvivalCurve) and set(censored.curves[0].survival) == {1.0}


def test_landmark_counts_the_excluded() -> None:
    # died day 5, censored day 20, both before a day-30 landmark; transplanted day 31 is "No HSCT" at it
    result = landmark_analysis([5, 20, 40, 60, 90], [True, False, True, False, True],
                               [math.nan, math.nan, 10, 31, math.nan], landmark_days=30, compare=False)
    assert (result.excluded_events, result.excluded_censored, result.included) == (1, 1, 3)
    assert result.hsct_by_landmark == 1 and result.comparison is None
    no_hsct = result.curves[0]
    assert isinstance(no_hsct, SurvivalCurve) and no_hsct.n == 2
    assert no_hsct.timeline == pytest.approx([0, 30 / DAYS_PER_MONTH, 60 / DAYS_PER_MONTH])
    assert result.landmark_months == pytest.approx(30 / DAYS_PER_MONTH)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match=r"patient 0: HSCT on day 40.0 is outside follow-up \(0 to 30.0 days\)"):
        simon_makuch([30], [True], [40])
    with pytest.raises(ValueError, match="duration -1.0"):
        hsct_intervals([-1], [True], [math.nan])
    with pytest.raises(ValueError, match="landmark -5 days"):
        landmark_analysis([10], [True], [math.nan], landmark_days=-5)


# --- invariants ------------------------------------------------------------------------------------

@st.composite
def patients(draw: st.DrawFn, distinct: bool = False) -> tuple[list[float], list[bool], list[float]]:
    n = draw(st.integers(1, 30))
    if distinct:
        durations = [float(t) for t in draw(st.lists(st.integers(1, 500), min_size=n, max_size=n, unique=True))]
    else:
        durations = [float(t) for t in draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))]
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    hsct = [draw(st.one_of(st.just(math.nan), st.integers(0, int(t)).map(float))) for t in durations]
    return durations, events, hsct


@settings(max_examples=150, deadline=None)
@given(patients())
def test_landmark_at_zero_is_the_ordinary_kaplan_meier(data: tuple[list[float], list[bool], list[float]]) -> None:
    durations, events, hsct = (np.array(x) for x in data)
    result = landmark_analysis(durations, events, hsct, landmark_days=0, compare=False)
    assert result.included == len(durations) and result.excluded == 0
    table_months = default_table_months(float(durations.max()) / DAYS_PER_MONTH)
    for state, label, curve in zip((False, True), ("No HSCT", "HSCT"), result.curves):
        rows = (hsct == 0) == state          # transplanted on day 0 = HSCT by the landmark
        alone = fit_kaplan_meier(durations[rows] / DAYS_PER_MONTH, events[rows], label=label,
                                 table_months=table_months)
        assert alone == curve


@settings(max_examples=150, deadline=None)
@given(patients())
def test_simon_makuch_without_transplants_is_kaplan_meier(data: tuple[list[float], list[bool], list[float]]) -> None:
    durations, events, _ = (np.array(x) for x in data)
    curve = simon_makuch(durations, events, np.full(len(durations), math.nan)).curves[0]
    if isinstance(curve, SurvivalCurve):
        km = product_limit(durations, events, np.ones(len(durations)))
        np.testing.assert_allclose(curve.survival, km.survival, rtol=0, atol=1e-12)
        np.testing.assert_allclose(curve.lower, km.lower, rtol=0, atol=1e-12)
        assert curve.at_risk_on_timeline == tuple(int(x) for x in km.at_risk)


@settings(max_examples=150, deadline=None)
@given(patients())
def test_the_two_states_share_out_the_patients_at_risk(data: tuple[list[float], list[bool], list[float]]) -> None:
    durations, events, hsct = (np.array(x) for x in data)
    intervals = hsct_intervals(durations, events, hsct)
    assert intervals.event.sum() == events.sum()
    times = np.unique(np.concatenate(([0.0], durations)))
    total = sum(_at_risk(intervals.entry[intervals.hsct == s], intervals.stop[intervals.hsct == s], times)
                for s in (False, True))
    np.testing.assert_array_equal(total, [(durations >= t).sum() for t in times])


@settings(max_examples=100, deadline=None)
@given(patients(distinct=True))
def test_mantel_byar_is_the_log_rank_when_hsct_is_fixed_and_times_are_untied(
        data: tuple[list[float], list[bool], list[float]]) -> None:
    durations, events, hsct = (np.array(x) for x in data)
    fixed = np.where(np.isnan(hsct), math.nan, 0.0)        # transplanted from the start, or never
    test = mantel_byar_test(durations, events, fixed)
    if test.statistic is None:
        return
    group = ~np.isnan(fixed)
    logrank = logrank_test(durations[group], durations[~group], events[group], events[~group])
    assert test.statistic == pytest.approx(logrank.test_statistic, rel=1e-9, abs=1e-12)


# every event after HSCT happens while nearly everyone at risk is transplanted: the likelihood rises
# without end in β, and at a large β the information is exactly 0 in floating point
MONOTONE_LIKELIHOOD = [(0, False, None)] * 4 + [(2, True, None), (0, False, 0)] + [(1, True, 0)] * 4


def test_a_likelihood_that_rises_without_end_gives_a_reason_not_an_error() -> None:
    days = np.array([d for d, _, _ in MONOTONE_LIKELIHOOD], dtype=float)
    events = np.array([e for _, e, _ in MONOTONE_LIKELIHOOD])
    hsct = np.array([np.nan if h is None else float(h) for _, _, h in MONOTONE_LIKELIHOOD])
    hr = hsct_hazard_ratio(days, events, hsct)
    assert hr.hazard_ratio is None and hr.coefficient is None
    assert hr.suppressed_reason is not None and "does not converge" in hr.suppressed_reason
    assert (hr.n, hr.events, hr.transplanted, hr.events_after_hsct) == (10, 5, 5, 4)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.booleans(), st.one_of(st.none(), st.integers(0, 60))),
                min_size=1, max_size=25))
@example(MONOTONE_LIKELIHOOD)
def test_any_small_slice_gives_a_result_or_a_reason_never_an_error(rows) -> None:  # type: ignore[no-untyped-def]
    days = np.array([d for d, _, _ in rows], dtype=float)
    events = np.array([e for _, e, _ in rows])
    hsct = np.array([np.nan if h is None or h > d else float(h) for d, _, h in rows])
    test = mantel_byar_test(days, events, hsct)
    hr = hsct_hazard_ratio(days, events, hsct)
    assert (test.p_value is None) == (test.suppressed_reason is not None)
    assert test.p_value is None or 0.0 <= test.p_value <= 1.0
    assert (hr.hazard_ratio is None) == (hr.suppressed_reason is not None)
    if hr.hazard_ratio is not None:
        assert hr.lower <= hr.hazard_ratio <= hr.upper
