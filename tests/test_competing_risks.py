"""Cumulative incidence with competing risks against R (cmprsk, survival) and hand-computed cases.

The golden values come from scripts/r_golden_values.R (R 4.2, survival 3.5-3, cmprsk 2.2-11),
stored with the data they were computed from in tests/golden_r/. Estimates, variances and Gray's
statistic agree with R to about 1e-15 absolute; the tests allow 1e-12 (floating-point order of
operations differs: cmprsk multiplies S step by step, product_limit sums logarithms).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.contract import DAYS_PER_MONTH
from core.cumulative_incidence import (
    CI_METHOD,
    CumulativeIncidence,
    aalen_johansen,
    estimate_cumulative_incidence,
    fit_cumulative_incidence,
    gray_test,
    log_log_band,
)
from core.results import TooFewPatients
from core.survival import product_limit

GOLDEN = Path(__file__).resolve().parent / "golden_r"
DATA = {
    "mgus2": pd.read_csv(GOLDEN / "mgus2_competing.csv"),
    "cuminc_example": pd.read_csv(GOLDEN / "cuminc_example.csv"),
    "ties": pd.read_csv(GOLDEN / "ties_competing.csv"),
}
CURVES = pd.read_csv(GOLDEN / "cuminc_curves.csv", dtype={"group": str, "cause": int})
TIMEPOINTS = pd.read_csv(GOLDEN / "cuminc_timepoints.csv", dtype={"group": str, "cause": int})
GRAY = pd.read_csv(GOLDEN / "gray_tests.csv")
TOLERANCE = {"rtol": 1e-10, "atol": 1e-12}
APPROX = {"rel": 1e-10, "abs": 1e-12}


def _rows(dataset: str, grouping: str, group: str) -> pd.DataFrame:
    data = DATA[dataset]
    return data if grouping == "all" else data[data[grouping].astype(str) == group]


# --- R: cmprsk::cuminc -------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(CURVES.groupby(["dataset", "grouping", "group", "cause"]).groups))
def test_estimates_and_variances_match_cuminc_at_every_step(key: tuple[str, str, str, int]) -> None:
    dataset, grouping, group, cause = key
    rows = _rows(dataset, grouping, group)
    golden = CURVES[(CURVES[["dataset", "grouping", "group", "cause"]] == key).all(axis=1)]
    fit = aalen_johansen(rows["time"], rows["cause"], causes_of_interest=[cause])
    # cuminc lists each step twice (its corners); the value after the step is the last at that time
    after = golden.groupby("time").tail(1)
    step = np.searchsorted(fit.timeline, after["time"].to_numpy(), side="right") - 1
    np.testing.assert_allclose(fit.incidence[step, 0], after["estimate"], **TOLERANCE)
    np.testing.assert_allclose(fit.variance[step, 0], after["variance"], **TOLERANCE)
    assert fit.events[:, 0].sum() == (rows["cause"] == cause).sum()


@pytest.mark.parametrize("key", sorted(TIMEPOINTS.groupby(["dataset", "grouping", "group", "cause"]).groups))
def test_estimates_at_chosen_times_match_cmprsk_timepoints(key: tuple[str, str, str, int]) -> None:
    dataset, grouping, group, cause = key
    rows = _rows(dataset, grouping, group)
    golden = TIMEPOINTS[(TIMEPOINTS[["dataset", "grouping", "group", "cause"]] == key).all(axis=1)]
    # the data's own unit stands in for days; ask at the same instants in months
    curve = fit_cumulative_incidence(rows["time"], rows["cause"], cause_labels={1: "first", 2: "second"},
                                     landmark_months=tuple(golden["time"] / DAYS_PER_MONTH))
    assert isinstance(curve, CumulativeIncidence)
    for rate, (_, expected) in zip(curve.cause(cause).at_months, golden.iterrows()):
        if math.isnan(expected["estimate"]):      # past the last follow-up time
            if curve.event_free[-1] == 0.0:
                # cmprsk says NA, but everyone has had an event: the incidences are final (last step)
                assert rate.estimate == pytest.approx(curve.cause(cause).incidence[-1], **APPROX)
                assert rate.variance == pytest.approx(curve.cause(cause).variance[-1], **APPROX)
            else:
                assert rate.estimate is None and rate.variance is None
            continue
        assert rate.estimate == pytest.approx(expected["estimate"], **APPROX)
        assert rate.variance == pytest.approx(expected["variance"], **APPROX)
        assert rate.at_risk == (rows["time"] >= expected["time"]).sum()


@pytest.mark.parametrize("row", [r for _, r in GRAY.iterrows()],
                         ids=[f"{r.dataset}-{r.grouping}-{r.strata}-rho{r.rho}-cause{r.cause}" for _, r in GRAY.iterrows()])
def test_gray_statistic_and_p_match_cuminc(row: pd.Series) -> None:
    data = DATA[row["dataset"]]
    strata = None if row["strata"] == "none" else data[row["strata"]]
    test = gray_test(data["time"], data["cause"], data[row["grouping"]], cause=int(row["cause"]),
                     strata=strata, rho=float(row["rho"]))
    assert test.suppressed_reason is None
    assert test.statistic == pytest.approx(row["statistic"], **APPROX)
    assert test.degrees_of_freedom == row["df"]
    # cuminc prints 1 − pchisq (0 below 1e-16); the upper tail is what we report
    assert test.p_value == pytest.approx(row["p_upper_tail"], rel=1e-9)
    assert test.p_value == pytest.approx(row["p_value"], abs=1e-12)


def test_aalen_johansen_matches_survfit_multistate() -> None:
    golden = pd.read_csv(GOLDEN / "survfit_aalen_johansen_mgus2.csv")
    data = DATA["mgus2"]
    fit = aalen_johansen(data["time"], data["cause"])
    step = np.searchsorted(fit.timeline, golden["time"].to_numpy())
    assert fit.causes == (1, 2)
    np.testing.assert_array_equal(fit.timeline[step], golden["time"])
    np.testing.assert_allclose(fit.event_free[step], golden["event_free"], **TOLERANCE)
    np.testing.assert_allclose(fit.incidence[step, 0], golden["cause_1"], **TOLERANCE)
    np.testing.assert_allclose(fit.incidence[step, 1], golden["cause_2"], **TOLERANCE)
    np.testing.assert_array_equal(fit.at_risk[step], golden["n_risk"])


def test_counts_give_the_same_as_one_row_per_patient() -> None:
    data = DATA["mgus2"]
    counts = data.groupby(["time", "cause"]).size().reset_index(name="n")
    raw = aalen_johansen(data["time"], data["cause"])
    aggregated = aalen_johansen(counts["time"], counts["cause"], counts["n"])
    np.testing.assert_array_equal(raw.timeline, aggregated.timeline)
    np.testing.assert_allclose(raw.incidence, aggregated.incidence, rtol=0, atol=1e-14)
    np.testing.assert_allclose(raw.variance, aggregated.variance, rtol=0, atol=1e-14)
    g_raw = gray_test(data["time"], data["cause"], data["sex"], cause=1)
    by_sex = data.groupby(["time", "cause", "sex"]).size().reset_index(name="n")
    g_counts = gray_test(by_sex["time"], by_sex["cause"], by_sex["sex"], by_sex["n"], cause=1)
    assert g_counts.statistic == pytest.approx(g_raw.statistic, rel=1e-12)


# --- hand-computed cases -------------------------------------------------------------------------

def test_ties_of_both_causes_and_censoring_on_one_day() -> None:
    # day 1: 5 at risk, one relapse, one death, one censored; day 2: 2 at risk, one relapse.
    # F1(1) = 1·1/5 = 0.2; S(1) = 3/5; F1(2) = 0.2 + 0.6·1/2 = 0.5; S(2) = 0.3; F2 stays 0.2.
    # cmprsk's variance (its three sums) at day 1: (0.68 + 0.08 − 0.4)/9 = 0.04; at day 2: 0.11.
    fit = aalen_johansen([1, 1, 1, 2, 3], [1, 2, 0, 1, 0])
    np.testing.assert_allclose(fit.timeline, [0, 1, 2, 3])
    np.testing.assert_allclose(fit.incidence[:, 0], [0, 0.2, 0.5, 0.5], atol=1e-15)
    np.testing.assert_allclose(fit.incidence[:, 1], [0, 0.2, 0.2, 0.2], atol=1e-15)
    np.testing.assert_allclose(fit.event_free, [1, 0.6, 0.3, 0.3], atol=1e-15)
    np.testing.assert_allclose(fit.variance[:, 0], [0, 0.04, 0.11, 0.11], atol=1e-15)
    np.testing.assert_allclose(fit.variance[:, 1], [0, 0.04, 0.04, 0.04], atol=1e-15)
    np.testing.assert_array_equal(fit.at_risk, [5, 5, 2, 1])
    np.testing.assert_array_equal(fit.censored, [0, 1, 0, 1])


def test_two_tied_events_use_the_tie_correction() -> None:
    # 3 at risk, 2 events: weight S²·(1 − 1/2)·2/9 = 1/9, S = 1/3, F = 2/3 → variance 1 + 4/9 − 4/3 = 1/9
    fit = aalen_johansen([4, 4, 9], [1, 1, 0])
    assert fit.incidence[-1, 0] == pytest.approx(2 / 3)
    assert fit.variance[-1, 0] == pytest.approx(1 / 9)


def test_all_censored_gives_flat_zero_and_no_band() -> None:
    curve = fit_cumulative_incidence([30, 60, 90], [0, 0, 0], cause_labels={1: "Relapse", 2: "Death in remission"},
                                     landmark_months=(1.0, 2.0, 12.0))
    assert isinstance(curve, CumulativeIncidence)
    assert curve.events == 0 and curve.censored == 3
    for cause in curve.causes:
        assert set(cause.incidence) == {0.0} and set(cause.variance) == {0.0}
        assert all(math.isnan(x) for x in cause.lower + cause.upper)
        assert cause.at(1.0).estimate == 0.0 and cause.at(1.0).lower is None
        assert cause.at(12.0).estimate is None      # follow-up ends at 90 days
    assert set(curve.event_free) == {1.0}


def test_one_patient_is_too_few_for_a_curve_but_the_arithmetic_holds() -> None:
    assert isinstance(fit_cumulative_incidence([10], [1]), TooFewPatients)
    fit = aalen_johansen([10], [1])
    np.testing.assert_allclose(fit.incidence[:, 0], [0, 1])
    np.testing.assert_allclose(fit.variance[:, 0], [0, 1])     # cmprsk gives 1 here too
    np.testing.assert_allclose(fit.event_free, [1, 0])


def test_events_on_day_zero_are_a_step_at_zero() -> None:
    # day 0: 4 at risk, one relapse, one censored → F1 = 1/4, S = 3/4; day 5: death of 2 at risk → S = 3/8;
    # day 7: the last one relapses → F1 = 1/4 + 3/8 = 5/8
    fit = aalen_johansen([0, 0, 5, 7], [1, 0, 2, 1])
    np.testing.assert_allclose(fit.timeline, [0, 5, 7])
    np.testing.assert_allclose(fit.incidence[:, 0], [0.25, 0.25, 0.625])
    np.testing.assert_allclose(fit.incidence[:, 1], [0, 0.375, 0.375])


def test_log_log_band_is_the_tidycmprsk_formula() -> None:
    z = 1.959963984540054
    f, v = 0.3, 0.0025
    scale = z * math.sqrt(v) / (f * math.log(f))
    lower, upper = log_log_band(np.array([f]), np.array([v]))
    assert lower[0] == pytest.approx(f ** math.exp(-scale), rel=1e-14)
    assert upper[0] == pytest.approx(f ** math.exp(scale), rel=1e-14)
    assert lower[0] < f < upper[0]
    assert "F^exp(±z·√var / (F·log F))" in CI_METHOD


def test_unlabelled_cause_and_bad_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="cause 3 is in the data but has no label"):
        fit_cumulative_incidence([1, 2, 3], [1, 3, 0], cause_labels={1: "Relapse"})
    with pytest.raises(ValueError, match="row 1: time -2.0 is not a non-negative number of days"):
        aalen_johansen([1, -2], [1, 0])
    with pytest.raises(ValueError, match="row 0: cause -1"):
        aalen_johansen([1, 2], [-1, 0])
    with pytest.raises(ValueError, match="cause 0 means censored"):
        aalen_johansen([1, 2], [1, 0], causes_of_interest=[0])


def test_gray_is_suppressed_below_five_patients_per_group() -> None:
    data = DATA["ties"]
    small = data.iloc[:9]                           # group y keeps 4 patients
    test = gray_test(small["time"], small["cause"], small["group"], cause=1)
    assert test.statistic is None
    assert test.suppressed_reason == "group y has 4 patients (at least 5 per group needed)"
    one = gray_test(data["time"], data["cause"], ["x"] * len(data), cause=1)
    assert one.suppressed_reason == "only one group in this slice"
    none = gray_test(data["time"], data["cause"], data["group"], cause=3, label="graft failure")
    assert none.suppressed_reason == "no graft failure in this slice"


def test_estimate_by_group_from_sql_counts() -> None:
    data = DATA["mgus2"]
    counts = (data.groupby(["sex", "time", "cause"]).size().reset_index(name="n")
              .rename(columns={"sex": "group", "time": "duration_days"}))
    labels = {1: "Progression", 2: "Death"}
    analysis = estimate_cumulative_incidence(counts, cause_labels=labels, by="sex", compare=True,
                                             group_order=["M", "F"])
    assert [c.label for c in analysis.fitted] == ["Male", "Female"]
    women = data[data["sex"] == "F"]
    alone = fit_cumulative_incidence(women["time"], women["cause"], cause_labels=labels)
    assert isinstance(alone, CumulativeIncidence)
    np.testing.assert_allclose(analysis.fitted[1].cause(1).incidence, alone.cause(1).incidence, atol=1e-14)
    golden = GRAY[(GRAY["grouping"] == "sex") & (GRAY["strata"] == "none")]
    assert [t.statistic for t in analysis.comparisons] == pytest.approx(list(golden["statistic"]), rel=1e-10)
    assert [t.label for t in analysis.comparisons] == ["progression", "death"]
    assert analysis.fitted[0].n + analysis.fitted[1].n == len(data)


# --- invariants ------------------------------------------------------------------------------------

cohorts = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 3), st.integers(1, 4)), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(cohorts)
def test_cifs_and_event_free_survival_sum_to_one(rows: list[tuple[int, int, int]]) -> None:
    times, causes, counts = (np.array(c) for c in zip(*rows))
    fit = aalen_johansen(times, causes, counts)
    np.testing.assert_allclose(fit.incidence.sum(axis=1) + fit.event_free, 1.0, rtol=0, atol=1e-12)
    assert (np.diff(fit.incidence, axis=0) >= -1e-15).all()
    assert (fit.variance >= -1e-15).all()
    lower, upper = log_log_band(fit.incidence, fit.variance)
    defined = ~np.isnan(lower)
    assert (lower[defined] <= fit.incidence[defined] + 1e-12).all()
    assert (upper[defined] >= fit.incidence[defined] - 1e-12).all()
    assert ((lower[defined] >= 0) & (upper[defined] <= 1)).all()


@settings(max_examples=200, deadline=None)
@given(cohorts)
def test_one_cause_only_is_one_minus_kaplan_meier(rows: list[tuple[int, int, int]]) -> None:
    times, causes, counts = (np.array(c) for c in zip(*rows))
    events = np.minimum(causes, 1)
    fit = aalen_johansen(times, events, counts, causes_of_interest=[1])
    km = product_limit(times, events > 0, counts)
    np.testing.assert_allclose(fit.incidence[:, 0], 1.0 - km.survival, rtol=0, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(cohorts, st.randoms(use_true_random=False))
def test_permuting_rows_changes_nothing(rows: list[tuple[int, int, int]], random: object) -> None:
    shuffled = list(rows)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    a = aalen_johansen(*(np.array(c) for c in zip(*rows)))
    b = aalen_johansen(*(np.array(c) for c in zip(*shuffled)))
    np.testing.assert_allclose(a.incidence, b.incidence, rtol=0, atol=1e-15)
    np.testing.assert_allclose(a.variance, b.variance, rtol=0, atol=1e-15)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 2), st.sampled_from("abc")), min_size=15, max_size=60))
def test_gray_statistic_does_not_depend_on_group_names_or_order(rows: list[tuple[int, int, str]]) -> None:
    times, causes, groups = (np.array(c) for c in zip(*rows))
    first = gray_test(times, causes, groups, cause=1)
    renamed = gray_test(times, causes, np.array([{"a": "z", "b": "y", "c": "x"}[g] for g in groups]), cause=1)
    reversed_rows = gray_test(times[::-1], causes[::-1], groups[::-1], cause=1)
    assert first.suppressed_reason == reversed_rows.suppressed_reason
    assert (first.statistic is None) == (renamed.statistic is None)
    if first.statistic is not None:
        assert first.statistic >= -1e-12
        assert renamed.statistic == pytest.approx(first.statistic, rel=1e-9, abs=1e-12)
        assert reversed_rows.statistic == pytest.approx(first.statistic, rel=1e-9, abs=1e-12)
