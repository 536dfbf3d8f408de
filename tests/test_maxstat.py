"""Maximally selected rank statistics (core.maxstat) checked three ways: by hand on a data set whose
answer is known, by brute-force permutation, and against R's maxstat (tests/golden_r, written by
scripts/r_golden_maxstat.R from the inputs of scripts/cutpoint_golden_inputs.py; the tests never run R)."""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from core.maxstat import (
    cut_correlation,
    distinct_arrangements,
    logrank_scores,
    maximally_selected,
    p_exact_gauss,
    p_lausen94,
    p_permutation,
)

GOLDEN = Path(__file__).resolve().parent / "golden_r"
DATASETS = ("handmade", "handmade_ties", "default_blast_pct", "default_cycle1_dose_mg_m2", "default_age_years")


def _input(name: str) -> dict[str, np.ndarray]:
    with (GOLDEN / f"maxstat_input_{name}.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    def column(key: str) -> np.ndarray:
        return np.array([float(r[key]) if r[key] != "" else np.nan for r in rows])
    return {k: column(k) for k in ("x", "time_days", "event", "y")}


def _scores(data: dict[str, np.ndarray], outcome: str) -> tuple[np.ndarray, np.ndarray]:
    if outcome == "cr_cri":
        return data["x"], data["y"]
    keep = ~np.isnan(data["time_days"])
    return data["x"][keep], logrank_scores(data["time_days"][keep], data["event"][keep])


def _golden(name: str) -> dict[tuple[str, str], dict[str, str]]:
    with (GOLDEN / f"maxstat_{name}.csv").open(encoding="utf-8") as fh:
        return {(r["outcome"], r["pmethod"]): r for r in csv.DictReader(fh)}


def _golden_cuts(name: str, outcome: str) -> list[tuple[float, float]]:
    with (GOLDEN / f"maxstat_{name}_cuts.csv").open(encoding="utf-8") as fh:
        return [(float(r["cut"]), float(r["statistic"])) for r in csv.DictReader(fh) if r["outcome"] == outcome]


# ------------------------------------------------------------------------------------------ known answers
def test_a_perfect_split_of_six_has_p_one_in_ten_by_hand() -> None:
    # x = 1..6, CR/CRi in the upper three: the split at 3 is perfect (M = √5). Of the C(6,3) = 20
    # equally likely arrangements of three responders, only the two perfect ones (responders on top
    # or at the bottom) reach √5 at any admissible cut, so the corrected p-value is 2/20.
    data = _input("handmade")
    selection = maximally_selected(data["x"], data["y"])
    assert selection.statistic == pytest.approx(math.sqrt(5), abs=1e-12)
    assert selection.estimate == 3.0
    assert distinct_arrangements(np.asarray(selection.sorted_scores)) == 20
    exact = p_permutation(selection)
    assert exact.p_value == pytest.approx(0.1, abs=1e-12) and exact.arrangements == 20
    sampled = p_permutation(selection, exact_limit=0, permutations=40_000, seed=7)
    assert abs(sampled.p_value - 0.1) < 4 * sampled.monte_carlo_error
    # the naive p-value at the chosen split would be 0.025: the search costs a factor of four
    assert 2 * (1 - 0.5 * (1 + math.erf(math.sqrt(5) / math.sqrt(2)))) == pytest.approx(0.0253, abs=1e-4)


def test_the_enumerated_permutation_p_value_is_brute_force() -> None:
    for name, outcome in (("handmade", "os"), ("handmade", "cr_cri")):
        x, scores = _scores(_input(name), outcome)
        selection = maximally_selected(x, scores)
        order = np.argsort(x, kind="stable")
        m = np.asarray(selection.lower_sizes)
        hits = total = 0
        for perm in itertools.permutations(scores[order]):        # all 720, repeats included
            sums = np.cumsum(perm)[m - 1]
            stat = np.max(np.abs((sums - selection.expectation) / np.sqrt(selection.variance)))
            hits += stat >= selection.statistic * (1 - 1e-9)
            total += 1
        assert p_permutation(selection).p_value == pytest.approx(hits / total, abs=1e-12), (name, outcome)


def test_permuting_the_patients_changes_nothing() -> None:
    x, scores = _scores(_input("default_blast_pct"), "os")
    rng = np.random.default_rng(3)
    order = rng.permutation(len(x))
    a, b = maximally_selected(x, scores), maximally_selected(x[order], scores[order])
    assert a.statistic == pytest.approx(b.statistic, abs=1e-12) and a.estimate == b.estimate
    assert np.allclose(logrank_scores(*[_input("default_blast_pct")[k] for k in ("time_days", "event")])[order],
                       logrank_scores(*[_input("default_blast_pct")[k][order] for k in ("time_days", "event")]))


# ------------------------------------------------------------------------------------------ against R
@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("outcome", ("cr_cri", "os"))
def test_the_statistic_and_p_values_are_rs_maxstat(name: str, outcome: str) -> None:
    golden = _golden(name)
    x, scores = _scores(_input(name), outcome)
    selection = maximally_selected(x, scores)
    r = golden[(outcome, "Lau94")]
    assert selection.n == int(r["n"])
    assert selection.statistic == pytest.approx(float(r["statistic"]), abs=1e-9)
    assert selection.estimate == pytest.approx(float(r["estimate"]), abs=1e-9)
    cuts = _golden_cuts(name, outcome)
    assert np.allclose(selection.cuts, [c for c, _ in cuts], atol=1e-9)
    assert np.allclose(selection.statistics, [s for _, s in cuts], atol=1e-9)
    # the improved Bonferroni bound is closed-form: equal to R's (which is not capped at 1)
    assert p_lausen94(selection).p_value == pytest.approx(min(1.0, float(r["p_value"])), abs=1e-9)
    # Genz's integration on both sides: equal within its error
    assert p_exact_gauss(selection).p_value == pytest.approx(float(golden[(outcome, "exactGauss")]["p_value"]),
                                                            abs=2e-3)
    # R's condMC counts only maxima strictly above M: compare like with like (100,000 draws each)
    strict = p_permutation(selection, permutations=100_000, exact_limit=0, count_ties=False, seed=11)
    assert strict.p_value == pytest.approx(float(golden[(outcome, "condMC")]["p_value"]), abs=0.01)


def test_rs_condmc_misses_a_maximum_that_recurs_exactly() -> None:
    # the hand-made perfect split: R's condMC says p = 0 because the two perfect arrangements tie
    # with the observed maximum instead of exceeding it; counting ties gives the exact 0.1
    assert float(_golden("handmade")[("cr_cri", "condMC")]["p_value"]) == 0.0
    selection = maximally_selected(*_scores(_input("handmade"), "cr_cri"))
    assert p_permutation(selection).p_value == pytest.approx(0.1)


def test_the_cut_correlation_is_rs_corrmsrs() -> None:
    # maxstat:::corrmsrs(1:10) — first row, printed by R
    corr = cut_correlation(tuple(range(1, 10)), 10)
    assert np.allclose(corr[0], [1.0, 0.6666667, 0.5091751, 0.4082483, 0.3333333, 0.2721655, 0.2182179,
                                 0.1666667, 0.1111111], atol=1e-7)
