"""The cut-point explorer: every threshold's figures, the paper's 50% equal to the Response and
Survival pages, and the best split through the database — on a hand-made cohort with a known
answer and on the default cohort against R's maxstat (tests/golden_r; see tests/test_maxstat.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.cutpoints import CUTPOINT_WARNING, BestCutpoint, best_cutpoint, cutpoint_scan
from core.database import open_cohort
from core.filters import FilterSpec
from core.queries import CUTPOINT_COLUMNS, fetch_cutpoint_counts
from core.response import cr_cri_rate_by
from core.results import TooFewPatients
from core.survival import estimate_survival
from tests.cohort_factory import TinyPatient
from tests.test_maxstat import _golden, _input


@pytest.fixture(scope="module")
def cohort(default_cohort: Path):  # type: ignore[no-untyped-def]
    opened = open_cohort(default_cohort)
    yield opened
    opened.close()


# ------------------------------------------------------------------------------------------ the scan
def test_the_scan_at_50_percent_is_the_response_pages_split(cohort) -> None:  # type: ignore[no-untyped-def]
    scan = cutpoint_scan(cohort, FilterSpec(), "blast_pct")
    row = scan.row_at(50)
    page = {r.value: r.rate for r in cr_cri_rate_by(cohort, FilterSpec(), "blast_burden")}
    assert row.cr_cri_below == page["low"] and row.cr_cri_above == page["high"]
    assert (row.label_below, row.label_above) == ("Blasts < 50%", "Blasts ≥ 50%")
    assert (row.n_below, row.n_above) == (16, 16)
    assert [r.threshold for r in scan.rows if r.is_reference] == [50.0]
    assert scan.reference_label == "the paper's split"


def test_the_scan_at_50_percent_gives_the_survival_pages_landmarks(cohort) -> None:  # type: ignore[no-untyped-def]
    row = cutpoint_scan(cohort, FilterSpec(), "blast_pct").row_at(50)
    curves = {c.label: c for c in estimate_survival(cohort, FilterSpec(), "os", by="blast_burden").fitted}
    for side, label in ((row.os_below, row.label_below), (row.os_above, row.label_above)):
        assert side.n == curves[label].n
        for months in (6.0, 12.0):
            assert side.at(months) == curves[label].landmark(months)


def test_the_scan_covers_every_observed_threshold_and_the_sides_add_up(cohort) -> None:  # type: ignore[no-untyped-def]
    for variable in CUTPOINT_COLUMNS:
        scan = cutpoint_scan(cohort, FilterSpec(), variable)
        values = sorted({float(v) for v in fetch_cutpoint_counts(cohort, FilterSpec(), variable)["value"].dropna()})
        expected = set(values[1:]) | ({50.0} if variable == "blast_pct" else set())
        assert {r.threshold for r in scan.rows} == expected
        assert [r.threshold for r in scan.rows] == sorted(expected)
        for row in scan.rows:
            assert row.n_below + row.n_above + scan.n_missing == scan.n
            assert row.n_below > 0 and row.n_above > 0
        assert [r.n_below for r in scan.rows] == sorted(r.n_below for r in scan.rows)


def test_the_scan_leaves_missing_values_out_and_follows_the_slice(tiny_cohort: Path) -> None:
    cohort = open_cohort(tiny_cohort)
    try:
        scan = cutpoint_scan(cohort, FilterSpec(), "blast_pct")
        assert (scan.n, scan.n_missing) == (10, 1)          # T06 has no blast count
        row = scan.row_at(50)
        page = {r.value: r.rate for r in cr_cri_rate_by(cohort, FilterSpec(), "blast_burden")}
        assert row.cr_cri_below == page["low"] and row.cr_cri_above == page["high"]
        line1 = cutpoint_scan(cohort, FilterSpec(salvage_lines=(1,)), "blast_pct")
        assert line1.n == 4 and all(r.n_below + r.n_above == 4 for r in line1.rows)
        custom = cutpoint_scan(cohort, FilterSpec(), "blast_pct", thresholds=(5, 100))
        assert isinstance(custom.rows[0].cr_cri_below, TooFewPatients)      # nobody below 5%
        assert isinstance(custom.rows[1].os_above, TooFewPatients)          # nobody at 100%
    finally:
        cohort.close()


# ------------------------------------------------------------------------------------------ the best split
def test_the_best_split_of_a_hand_made_cohort_through_the_database(make_tiny_cohort: Callable[..., Path]) -> None:
    people = [TinyPatient(f"H{i}", blast_pct=10.0 * i, response="CR" if i <= 3 else "NR",
                          mrd="negative" if i <= 3 else None) for i in range(1, 7)]
    cohort = open_cohort(make_tiny_cohort(people, name="perfect.duckdb"))
    try:
        best = best_cutpoint(cohort, FilterSpec(), "blast_pct", outcome="cr_cri")
        assert isinstance(best, BestCutpoint)
        assert (best.threshold, best.last_below, best.n_below, best.n_above) == (40.0, 30.0, 3, 3)
        assert best.p_value == pytest.approx(0.1, abs=1e-12)
        assert best.p_value > best.p_value_unadjusted
        assert best.at_threshold.label_below == "Blasts < 40%"
        assert best.at_threshold.cr_cri_below.count == 3 and best.at_threshold.cr_cri_above.count == 0
        assert best.warning == CUTPOINT_WARNING and "overstated" in best.warning
    finally:
        cohort.close()


def test_the_golden_inputs_are_the_default_cohort(cohort) -> None:  # type: ignore[no-untyped-def]
    # if this fails the reconstruction changed: rerun scripts/cutpoint_golden_inputs.py and the R script
    for column in CUTPOINT_COLUMNS:
        frame = fetch_cutpoint_counts(cohort, FilterSpec(), column)
        stored = _input(f"default_{column}")
        rows = sorted((float(r.value), float(r.duration_days), float(r.event_kind == 1), float(r.responder))
                      for r in frame.itertuples() for _ in range(int(r.n)))
        assert rows == sorted(zip(stored["x"], stored["time_days"], stored["event"], stored["y"])), column


@pytest.mark.parametrize("variable", CUTPOINT_COLUMNS)
@pytest.mark.parametrize("outcome", ("cr_cri", "os"))
def test_best_cutpoint_on_the_default_cohort_is_rs_answer(cohort, variable: str, outcome: str) -> None:  # type: ignore[no-untyped-def]
    golden = _golden(f"default_{variable}")
    best = best_cutpoint(cohort, FilterSpec(), variable, outcome=outcome, p_method="lau94")
    assert isinstance(best, BestCutpoint)
    assert best.last_below == pytest.approx(float(golden[(outcome, "Lau94")]["estimate"]))
    assert best.statistic == pytest.approx(float(golden[(outcome, "Lau94")]["statistic"]), abs=1e-9)
    assert best.p_value == pytest.approx(min(1.0, float(golden[(outcome, "Lau94")]["p_value"])), abs=1e-9)
    values = sorted({c.threshold for c in best.candidates})
    assert best.threshold in values and best.threshold > best.last_below
    assert best.at_threshold.n_below == best.n_below and best.at_threshold.threshold == best.threshold
    assert best.p_value >= best.p_value_unadjusted
    assert "Lausen" in best.method and best.warning == CUTPOINT_WARNING


def test_best_cutpoint_by_permutation_says_how_and_is_reproducible(cohort) -> None:  # type: ignore[no-untyped-def]
    first = best_cutpoint(cohort, FilterSpec(), "blast_pct", outcome="os")
    again = best_cutpoint(cohort, FilterSpec(), "blast_pct", outcome="os")
    assert isinstance(first, BestCutpoint) and first == again
    assert first.p_detail.permutations == 9999 and "9,999 random permutations" in first.method
    r = float(_golden("default_blast_pct")[("os", "condMC")]["p_value"])
    assert first.p_value == pytest.approx(r, abs=0.02)
    assert first.describe().startswith("Best split of bone-marrow blasts for overall survival: Blasts < 64% vs "
                                       "Blasts ≥ 64%")


def test_too_few_patients_or_one_outcome_gives_a_reason(make_tiny_cohort: Callable[..., Path]) -> None:
    cohort = open_cohort(make_tiny_cohort([TinyPatient(f"R{i}", blast_pct=10.0 * i) for i in range(1, 4)],
                                          name="three.duckdb"))
    try:
        few = best_cutpoint(cohort, FilterSpec(), "blast_pct", outcome="cr_cri")
        assert isinstance(few, TooFewPatients) and few.n == 3
    finally:
        cohort.close()
    cohort = open_cohort(make_tiny_cohort([TinyPatient(f"C{i}", blast_pct=5.0 * i) for i in range(1, 13)],
                                          name="all-respond.duckdb"))
    try:
        same = best_cutpoint(cohort, FilterSpec(), "blast_pct", outcome="cr_cri")
        assert isinstance(same, TooFewPatients) and "same outcome" in same.what
    finally:
        cohort.close()
    with pytest.raises(ValueError, match="Unknown cut-point variable 'wbc'"):
        cutpoint_scan(cohort, FilterSpec(), "wbc")
