"""Endpoints derived from dated events, on hand-made cohorts whose answers are worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from core.characteristics import patient_characteristics
from core.contract import DAYS_PER_MONTH
from core.database import Cohort, CohortError, open_cohort
from core.endpoints import EndpointOptions, endpoint
from core.filters import FilterSpec
from core.queries import (
    fetch_counts_by_each,
    fetch_measures,
    fetch_patient_listing,
    fetch_survival_counts,
)
from core.response import cr_cri_rate_by, summarise_response
from core.results import ProportionEstimate, TooFewPatients, clopper_pearson, proportion, round_half_up
from core.safety import causes_of_death, toxicity_by, toxicity_by_hsct, toxicity_components
from core.survival import SurvivalCurve, estimate_survival
from tests.cohort_factory import START, TinyPatient, write_tiny_cohort

# Six patients, chosen so every derived rule is exercised once:
#  A  CR after cycle 1, MRD-negative then; relapse day 100, death day 130 (relapse)
#  B  CRi after cycle 2, MRD-positive then, MRD-negative later (not a deep response); HSCT day 90;
#     VOD day 100 (post-HSCT); alive at day 400
#  C  CR after cycle 1 but the assessment date was not recorded; MRD-negative same cycle (deep);
#     lost to follow-up day 200
#  D  NR; thrombocytopenia G4; AST G2 (ignored) and ALT G3; death day 60 (progression of disease)
#  E  no response assessment, lost day 12, no safety data
#  F  NR, salvage 2, blasts 30%, reduced dose; VOD day 40 without HSCT; alive day 365
PEOPLE = [
    TinyPatient("A", relapse_day=100, death_day=130, cause="relapse"),
    TinyPatient("B", response="CRi", response_cycle=2, n_cycles=2, mrd="positive", hsct_day=90,
                last_contact_day=400, aes=(("VOD", 3, 100),),
                extra_events=[dict(patient_id="B", event_date=START + dt.timedelta(days=80), event_type="mrd",
                                   cycle=2, mrd="negative")]),
    TinyPatient("C", response_dated=False, lost=True, last_contact_day=200),
    TinyPatient("D", response="NR", death_day=60, cause="progression of disease",
                aes=(("thrombocytopenia", 4, 20), ("AST increased", 2, 21), ("ALT increased", 3, 22))),
    TinyPatient("E", response=None, lost=True, last_contact_day=12, safety_evaluable=False),
    TinyPatient("F", response="NR", salvage_line=2, blast_pct=30.0, cycle1_doses=(0.5, 0.5, 0.3),
                last_contact_day=365, aes=(("VOD", 2, 40),)),
]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    return open_cohort(write_tiny_cohort(Path(tmp_path_factory.mktemp("six")) / "six.duckdb", PEOPLE))


def test_best_response_mrd_and_deep_response(cohort: Cohort) -> None:
    s = summarise_response(cohort, FilterSpec())
    assert (s.composition.cr, s.composition.cri, s.composition.no_response, s.composition.not_evaluable) == (2, 1, 2, 1)
    assert isinstance(s.cr_cri, ProportionEstimate) and (s.cr_cri.count, s.cr_cri.denominator) == (3, 6)
    assert isinstance(s.mrd_negative, ProportionEstimate) and (s.mrd_negative.count, s.mrd_negative.denominator) == (3, 3)
    # deep: A (same date) and C (undated, same cycle); not B (negative only later)
    assert isinstance(s.deep_response, ProportionEstimate) and s.deep_response.count == 2
    assert s.cycles_to_response.median == 1 and (s.cycles_to_response.minimum, s.cycles_to_response.maximum) == (1, 2)
    assert s.dated_responders == 2
    assert isinstance(s.hsct_responders, ProportionEstimate) and s.hsct_responders.count == 1
    assert isinstance(s.hsct_single_cycle, ProportionEstimate) and s.hsct_single_cycle.count == 0


def test_durations_come_from_dates(cohort: Cohort) -> None:
    listing = fetch_patient_listing(cohort, FilterSpec()).set_index("patient_id")
    assert listing.loc["A", "os_days"] == 130 and bool(listing.loc["A", "os_event"])
    assert listing.loc["E", "os_days"] == 12 and not bool(listing.loc["E", "os_event"])
    os_counts, _ = fetch_survival_counts(cohort, FilterSpec(), "os")
    assert int(os_counts["n"].sum()) == 6
    rfs, _ = fetch_survival_counts(cohort, FilterSpec(), "rfs")
    assert sorted(zip(rfs["duration_days"], rfs["event"])) == [(100, True), (200, False), (400, False)]
    dor, _ = fetch_survival_counts(cohort, FilterSpec(), "dor")   # C has no dated CR: not in DOR
    # A: CR day 25 → relapse day 100 = 75 days; B: CRi day 53 → last contact day 400 = 347 days
    assert sorted(zip(dor["duration_days"], dor["event"])) == [(75, True), (347, False)]


def test_endpoint_options_change_origin_and_censoring(cohort: Cohort) -> None:
    from_cr, _ = fetch_survival_counts(cohort, FilterSpec(), "rfs", options=EndpointOptions(rfs_from_response=True))
    # C has no CR date, so RFS from the CR date has no origin for C: excluded, not guessed
    assert sorted(zip(from_cr["duration_days"].dropna(), from_cr["event"])) == [(75, True), (347, False)]
    at_hsct, _ = fetch_survival_counts(cohort, FilterSpec(), "rfs", options=EndpointOptions(censor_at_hsct=True))
    assert (90, False) in set(zip(at_hsct["duration_days"], at_hsct["event"]))
    assert endpoint("rfs").definition(EndpointOptions(censor_at_hsct=True)).endswith(
        "censored at last contact or at HSCT")


def test_overall_survival_by_hand(cohort: Cohort) -> None:
    analysis = estimate_survival(cohort, FilterSpec(), "os")
    (curve,) = analysis.curves
    assert isinstance(curve, SurvivalCurve)
    # times (days): E 12+, D 60, A 130, C 200+, F 365+, B 400+.  S = 4/5 after D (5 at risk),
    # then 4/5 · 3/4 after A (A, C, F, B at risk)
    assert curve.survival[-1] == pytest.approx(4 / 5 * 3 / 4)
    assert curve.landmark(6.0).estimate == pytest.approx(0.6)
    assert curve.median.value is None and curve.median.format() == "NR"
    assert curve.at_risk_table.at_risk[:2] == (6, 4)     # at 0 and at 3 months (91.3 days)
    assert curve.timeline[1] == pytest.approx(12 / DAYS_PER_MONTH)


def test_toxicity_denominators_and_definitions(cohort: Cohort) -> None:
    table = toxicity_by_hsct(cohort, FilterSpec())
    assert (table.n_hsct, table.n_no_hsct_evaluable, table.n_not_evaluable) == (1, 4, 1)
    rows = {r.key: r for r in table.rows}
    vod = rows["vod"]
    assert isinstance(vod.hsct, ProportionEstimate) and (vod.hsct.count, vod.hsct.denominator) == (1, 1)
    assert isinstance(vod.no_hsct, ProportionEstimate) and (vod.no_hsct.count, vod.no_hsct.denominator) == (1, 4)
    liver = rows["liver_toxicity_g34"]          # D's ALT G3 counts, its AST G2 does not
    assert isinstance(liver.overall, ProportionEstimate) and liver.overall.count == 1
    components = {c.key: c.estimate for c in toxicity_components(cohort, FilterSpec())}
    assert components["ast_increased_g34"].count == 0 and components["alt_increased_g34"].count == 1  # type: ignore[union-attr]
    by_line = {r.value: r.rate for r in toxicity_by(cohort, FilterSpec(), "salvage_line", "vod")}
    assert (by_line[1].count, by_line[1].denominator) == (1, 5)  # type: ignore[union-attr]
    assert (by_line[2].count, by_line[2].denominator) == (1, 1)  # type: ignore[union-attr]


def test_causes_of_death(cohort: Cohort) -> None:
    deaths = causes_of_death(cohort, FilterSpec())
    assert [(c.cause, c.count) for c in deaths.causes] == [("progression of disease", 1), ("relapse", 1)]


def test_subgroups_in_clinical_order_and_empty_slices(cohort: Cohort) -> None:
    rates = cr_cri_rate_by(cohort, FilterSpec(), "blast_burden")
    assert [r.value for r in rates] == ["low", "high"]
    empty = summarise_response(cohort, FilterSpec(centres=("Nowhere",)))
    assert isinstance(empty.cr_cri, TooFewPatients) and empty.n == 0
    survival = estimate_survival(cohort, FilterSpec(centres=("Nowhere",)), "os")
    assert all(isinstance(c, TooFewPatients) for c in survival.curves)
    one = estimate_survival(cohort, FilterSpec(salvage_lines=(2,)), "os")
    assert isinstance(one.curves[0], TooFewPatients) and "1 patient" in one.curves[0].reason
    assert patient_characteristics(cohort, FilterSpec(centres=("Nowhere",))).n == 0


def test_characteristics_percentages(cohort: Cohort) -> None:
    table = patient_characteristics(cohort, FilterSpec())
    salvage = {r.category: r.text for r in table.rows if r.variable == "InO received as salvage therapy"}
    assert salvage == {"1": "5 (83.3)", "2": "1 (16.7)"}


def test_proportion_and_rounding() -> None:
    p = proportion("CR/CRi", 19, 32)
    assert isinstance(p, ProportionEstimate)
    # Clopper–Pearson 19/32 (R: binom.test(19, 32)$conf.int = 0.4064…, 0.7630…)
    assert p.lower == pytest.approx(0.40644, abs=1e-4) and p.upper == pytest.approx(0.76304, abs=1e-4)
    assert str(round_half_up(56.25, 1)) == "56.3" and str(round_half_up(9.375, 1)) == "9.4"
    assert str(round_half_up(100 * 7 / 32, 2)) == "21.88"
    assert isinstance(proportion("x", 0, 0), TooFewPatients)
    with pytest.raises(ValueError, match="not between 0"):
        proportion("x", 5, 3)


def test_clopper_pearson_equals_scipys_exact_binomial_interval() -> None:
    from scipy.stats import binomtest

    cases = [(k, n) for n in range(1, 41) for k in range(n + 1)] + [(0, 1000), (7, 1000), (500, 1000),
                                                                    (999, 1000), (123, 98765)]
    for level in (0.90, 0.95, 0.99):
        for k, n in cases:
            exact = binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
            lower, upper = clopper_pearson(k, n, level)
            assert lower == pytest.approx(exact.low, abs=1e-9) and upper == pytest.approx(exact.high, abs=1e-9), (k, n)
    assert clopper_pearson(0, 5)[0] == 0.0 and clopper_pearson(5, 5)[1] == 1.0


@pytest.mark.parametrize("spec", [FilterSpec(), FilterSpec(salvage_lines=(1,)), FilterSpec(hsct=False),
                                  FilterSpec(centres=("Nowhere",))])
@pytest.mark.parametrize("small_cohort_patients", [10**9, 0], ids=["unpivot", "grouping-sets"])
def test_counts_by_each_grouping_equal_one_query_per_grouping(tmp_path: Path, spec: FilterSpec,
                                                              small_cohort_patients: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import core.queries

    monkeypatch.setattr(core.queries, "SMALL_COHORT_PATIENTS", small_cohort_patients)
    # G has the baseline values a centre may not report: missing is a group of its own, not "other sets"
    cohort = open_cohort(write_tiny_cohort(tmp_path / "seven.duckdb", PEOPLE + [
        TinyPatient("G", blast_pct=None, ph_status=None, emd_baseline=None, response="NR", last_contact_day=50)]))
    groupings = ["salvage_line", "blast_burden", "hsct", "sex", "ph_status", "emd_baseline", "n_cycles",
                 "cycle1_dose_group", "best_response"]
    together = fetch_counts_by_each(cohort, spec, groupings)
    for grouping in groupings:
        alone = fetch_measures(cohort, spec, ("n",), by=grouping)
        assert together[grouping] == [(None if pd.isna(g) else g, int(n)) for g, n in zip(alone["group"], alone["n"])]
        assert sum(n for _, n in together[grouping]) == int(fetch_measures(cohort, spec, ("n",))["n"].sum())


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CohortError, match="does not exist"):
        open_cohort(tmp_path / "nope.duckdb")


def test_duration_of_remission_starts_at_first_dated_cr(tmp_path: Path) -> None:
    # CR after cycle 1 with no recorded date, CR again after cycle 2 on day 53; relapse day 153
    later = dict(patient_id="G", event_date=START + dt.timedelta(days=53), event_type="response", cycle=2,
                 response="CR")
    person = TinyPatient("G", response_dated=False, n_cycles=2, relapse_day=153, last_contact_day=300,
                         extra_events=[later])
    cohort = open_cohort(write_tiny_cohort(tmp_path / "g.duckdb", [person, TinyPatient("H")]))
    dor, _ = fetch_survival_counts(cohort, FilterSpec(), "dor")
    assert (100, True) in set(zip(dor["duration_days"], dor["event"]))
    assert summarise_response(cohort, FilterSpec()).dated_responders == 2
    # the first CR/CRi is still the cycle-1 one: cycles to response 1, deep response by cycle
    listing = fetch_patient_listing(cohort, FilterSpec()).set_index("patient_id")
    assert listing.loc["G", "cycles_to_response"] == 1 and bool(listing.loc["G", "deep_response"])
