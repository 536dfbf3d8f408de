"""The Kaplan–Meier engine against a textbook data set, and the invariants every curve keeps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from core.results import TooFewPatients
from core.survival import SurvivalCurve, default_table_months, fit_kaplan_meier, product_limit

# Freireich et al. 1963 (Blood 21:699), 6-MP arm, remission duration in weeks; + = censored.
# Textbook answers (Kleinbaum & Klein, Table 2.x; Collett): median 23 weeks; S(t) below.
FREIREICH_6MP = "6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+".split()
FREIREICH_S = {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448, 35: 0.448}


def _freireich() -> tuple[list[float], list[bool]]:
    times = [float(t.rstrip("+")) for t in FREIREICH_6MP]
    events = [not t.endswith("+") for t in FREIREICH_6MP]
    return times, events


def test_freireich_6mp_median_is_23_weeks() -> None:
    times, events = _freireich()
    curve = fit_kaplan_meier(times, events, label="6-MP")
    assert isinstance(curve, SurvivalCurve)
    assert curve.n == 21 and curve.events == 9 and curve.censored == 12
    assert curve.median.value == 23.0
    # the upper CI of the median is not reached: the band never falls to 0.5
    assert curve.median.upper is None
    assert curve.median.lower == 13.0


def test_freireich_6mp_survival_matches_textbook() -> None:
    times, events = _freireich()
    curve = fit_kaplan_meier(times, events, label="6-MP", landmark_months=tuple(FREIREICH_S))
    for t, expected in FREIREICH_S.items():
        assert curve.landmark(t).estimate == pytest.approx(expected, abs=5e-4), t


def test_freireich_at_risk_table() -> None:
    times, events = _freireich()
    curve = fit_kaplan_meier(times, events, table_months=(0, 10, 20, 30))
    # at risk = time ≥ t; events/censored cumulative up to and including t
    assert curve.at_risk_table.at_risk == (21, 15, 8, 4)
    assert curve.at_risk_table.events == (0, 5, 7, 9)
    assert curve.at_risk_table.censored == (0, 3, 7, 8)


def test_weights_give_the_same_curve_as_one_row_per_patient() -> None:
    times, events = _freireich()
    raw = fit_kaplan_meier(times, events)
    pairs: dict[tuple[float, bool], int] = {}
    for t, e in zip(times, events):
        pairs[(t, e)] = pairs.get((t, e), 0) + 1
    keys = sorted(pairs)
    weighted = fit_kaplan_meier([k[0] for k in keys], [k[1] for k in keys], weights=[pairs[k] for k in keys])
    assert isinstance(raw, SurvivalCurve) and isinstance(weighted, SurvivalCurve)
    np.testing.assert_allclose(raw.survival, weighted.survival, rtol=0, atol=1e-12)
    np.testing.assert_allclose(raw.lower, weighted.lower, rtol=0, atol=1e-12)
    np.testing.assert_allclose(raw.upper, weighted.upper, rtol=0, atol=1e-12)
    assert raw.median == weighted.median


def test_ci_is_lifelines_default_exponential_greenwood() -> None:
    times, events = _freireich()
    kmf = KaplanMeierFitter().fit(times, events)
    curve = fit_kaplan_meier(times, events)
    assert isinstance(curve, SurvivalCurve)
    np.testing.assert_allclose(curve.lower, kmf.confidence_interval_.iloc[:, 0].to_numpy(), atol=1e-12)
    assert "log(−log)" in curve.ci_method


def test_too_few_patients_is_a_typed_result() -> None:
    result = fit_kaplan_meier([3.0], [True], label="one")
    assert isinstance(result, TooFewPatients)
    assert "at least 2" in result.reason
    empty = fit_kaplan_meier([], [], label="none")
    assert isinstance(empty, TooFewPatients) and "no patients" in empty.reason


def test_landmark_beyond_follow_up_is_not_estimated() -> None:
    # the last patient is censored at 3 months: nothing is known at 12
    curve = fit_kaplan_meier([1.0, 2.0, 3.0], [True, True, False], landmark_months=(12.0,))
    assert isinstance(curve, SurvivalCurve)
    rate = curve.landmark(12.0)
    assert rate.estimate is None and rate.format() == "—"


def test_a_curve_that_reached_zero_reads_zero_at_every_later_milestone() -> None:
    # the last patient dies at 3 months: S = 0 from then on, so S(12) = 0, not "follow-up too short"
    curve = fit_kaplan_meier([1.0, 2.0, 3.0], [True, False, True], landmark_months=(3.0, 6.0, 12.0))
    assert isinstance(curve, SurvivalCurve)
    for t in (3.0, 6.0, 12.0):
        rate = curve.landmark(t)
        assert rate.estimate == 0.0 and rate.lower is None and rate.upper is None and rate.at_risk == (t == 3.0)
    assert curve.landmark(6.0).format() == "0.0% (CI not estimable)"


def test_kaplan_meier_edge_cases_by_hand() -> None:
    # a curve ending exactly at a milestone: deaths at 2 and 6, censored at 4 and 6 → S(6) = 3/4 · 1/2
    ending = fit_kaplan_meier([2.0, 4.0, 6.0, 6.0], [True, False, True, False], landmark_months=(6.0,))
    assert ending.landmark(6.0).estimate == pytest.approx(0.375) and ending.landmark(6.0).at_risk == 2
    # ties of a death and a censoring on the same day: the death is counted first (censored still at risk)
    tied = fit_kaplan_meier([1.0, 1.0, 2.0], [True, False, True], landmark_months=(1.0,))
    assert tied.landmark(1.0).estimate == pytest.approx(2 / 3) and tied.landmark(1.0).at_risk == 3
    # a median exactly at 0.5: S = 0.5 on [2, 4); the median is the first time S ≤ 0.5 (lifelines'
    # convention; R's survfit reports the midpoint 3 of that flat stretch)
    half = fit_kaplan_meier([1.0, 2.0, 4.0, 5.0], [True, True, True, False])
    assert half.median.value == pytest.approx(2.0)
    # all censored: S stays 1, the median is not reached
    none = fit_kaplan_meier([1.0, 2.0, 3.0], [False, False, False], landmark_months=(2.0,))
    assert none.median.value is None and none.landmark(2.0).estimate == 1.0 and none.events == 0
    # one patient: no curve, a reason instead
    one = fit_kaplan_meier([5.0], [True])
    assert isinstance(one, TooFewPatients) and one.n == 1


def test_table_months_cover_follow_up() -> None:
    assert default_table_months(13.5) == (0.0, 3.0, 6.0, 9.0, 12.0, 15.0)
    assert default_table_months(0.5)[-1] == 3.0


samples = st.lists(st.tuples(st.integers(0, 400), st.booleans()), min_size=2, max_size=60)


@settings(max_examples=150, deadline=None)
@given(samples, st.randoms(use_true_random=False))
def test_curve_invariants(rows: list[tuple[int, bool]], rnd) -> None:  # type: ignore[no-untyped-def]
    times = [t / 30.4375 for t, _ in rows]
    events = [e for _, e in rows]
    curve = fit_kaplan_meier(times, events)
    assert isinstance(curve, SurvivalCurve)
    s = np.array(curve.survival)
    lo, hi = np.array(curve.lower), np.array(curve.upper)
    assert ((s >= 0) & (s <= 1)).all()
    assert (np.diff(s) <= 1e-15).all(), "S(t) must never rise"
    assert (lo <= s + 1e-12).all() and (s <= hi + 1e-12).all()
    assert curve.events + curve.censored == curve.n == len(rows)
    if curve.median.value is not None and curve.median.lower is not None:
        assert curve.median.lower <= curve.median.value
    if curve.median.value is not None and curve.median.upper is not None:
        assert curve.median.value <= curve.median.upper
    # the order of the rows changes nothing
    order = list(range(len(rows)))
    rnd.shuffle(order)
    shuffled = fit_kaplan_meier([times[i] for i in order], [events[i] for i in order])
    assert isinstance(shuffled, SurvivalCurve)
    assert shuffled.survival == curve.survival and shuffled.median == curve.median
    # at risk on the timeline never rises
    assert all(a >= b for a, b in zip(curve.at_risk_on_timeline, curve.at_risk_on_timeline[1:]))
    assert not any(math.isnan(x) for x in curve.lower + curve.upper)


def test_curve_is_sparse_from_the_time_fewer_than_five_remain() -> None:
    # six deaths at months 1..6: after month 2, four patients remain at risk
    curve = fit_kaplan_meier([1, 2, 3, 4, 5, 6], [True] * 6)
    assert isinstance(curve, SurvivalCurve)
    assert curve.sparse_from() == 2.0
    many = fit_kaplan_meier(list(range(1, 21)), [False] * 20)
    assert isinstance(many, SurvivalCurve) and many.sparse_from() == 16.0


# ------------------------------------------------------- the product-limit table against lifelines
# Times on a coarse grid so ties between events and censorings, and several events at one time,
# are common; 0 is allowed (an event on the day of the first dose).
raw_rows = st.lists(st.tuples(st.integers(0, 40), st.booleans()), min_size=2, max_size=80)


@settings(max_examples=300, deadline=None)
@given(raw_rows, st.sampled_from([0.90, 0.95, 0.99]), st.sampled_from([1.0, 7.0, 30.4375]))
def test_product_limit_from_counts_equals_lifelines_on_raw_rows(rows: list[tuple[int, bool]], level: float,
                                                                unit: float) -> None:
    times = np.array([t / unit for t, _ in rows])
    events = np.array([e for _, e in rows])
    kmf = KaplanMeierFitter(alpha=1 - level).fit(times, events)
    # the same patients as one row per (time, event) with a count, as the SQL gives them
    keys, counts = np.unique(np.c_[times, events], axis=0, return_counts=True)
    curve = fit_kaplan_meier(keys[:, 0], keys[:, 1].astype(bool), weights=counts, conf_level=level,
                             landmark_months=(0.5, 3.0, 6.0))
    assert isinstance(curve, SurvivalCurve)
    assert np.array_equal(np.array(curve.timeline), kmf.timeline)
    for ours, theirs in ((curve.survival, kmf.survival_function_.iloc[:, 0]),
                         (curve.lower, kmf.confidence_interval_.iloc[:, 0]),
                         (curve.upper, kmf.confidence_interval_.iloc[:, 1])):
        np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=0, atol=1e-12)
    bounds = median_survival_times(kmf.confidence_interval_).to_numpy().ravel()
    for ours, theirs in ((curve.median.value, kmf.median_survival_time_), (curve.median.lower, bounds[0]),
                         (curve.median.upper, bounds[1])):
        assert ours == (None if math.isinf(theirs) else theirs)
    for rate in curve.landmarks:
        if rate.estimate is not None:
            assert rate.estimate == pytest.approx(kmf.survival_function_at_times(rate.months).iloc[0], abs=1e-12)


def test_product_limit_by_hand() -> None:
    # 5 patients: deaths at 1 and 3 (two), censored at 2 and 4.
    # n = 5, 4, 3, 1 at t = 1, 2, 3, 4; S = 4/5, 4/5, 4/5 · 1/3, same.
    # Greenwood sum: 1/(5·4) = 0.05 at t = 1; + 2/(3·1) at t = 3.
    table = product_limit(np.array([1.0, 2.0, 3.0, 4.0]), np.array([True, False, True, False]),
                          np.array([1, 1, 2, 1]))
    assert table.timeline.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert table.at_risk.tolist() == [5, 5, 4, 3, 1]
    np.testing.assert_allclose(table.survival, [1, 0.8, 0.8, 0.8 / 3, 0.8 / 3], rtol=0, atol=1e-15)
    np.testing.assert_allclose(table.greenwood, [0, 0.05, 0.05, 0.05 + 2 / 3, 0.05 + 2 / 3], rtol=0, atol=1e-15)
    assert table.lower[0] == table.upper[0] == 1.0       # the band is undefined where S = 1


def test_everyone_dying_at_once_ends_the_curve_at_zero() -> None:
    table = product_limit(np.array([2.0]), np.array([True]), np.array([3]))
    assert table.survival.tolist() == [1.0, 0.0]
    assert table.greenwood.tolist() == [0.0, 0.0]          # d / (n (n − d)) taken as 0 when n = d
    assert table.lower[-1] == table.upper[-1] == 0.0
