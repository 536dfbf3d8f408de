"""Published figures beside the cohort's: the interval each published rate carries and where it comes
from, survival points, comparable slices and what they cannot match, and the literature's tables."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.filters import FilterSpec
from core.literature import (
    PUBLISHED_LABEL,
    comparable_slice,
    comparable_slices,
    discrepancies,
    figure,
    published_cr_cri,
    published_survival_points,
)
from core.literature.comparison import NotDrawn, published_count, published_proportion, published_rates
from core.literature.eligibility import ELIGIBILITY
from core.literature.frames import (
    published_rates_frame,
    reference_frame,
    side_by_side_frame,
    table9_differences_frame,
    table9_frame,
)
from core.results import ProportionEstimate, clopper_pearson


# ------------------------------------------------------------------------------------------ rates
def test_a_published_ci_is_kept_and_named_as_published() -> None:
    rate = published_proportion(figure("iv2016-cr-cri-ino"))          # NEJM 2016: 80.7% (72.1–87.7) of 109
    assert isinstance(rate, ProportionEstimate)
    assert (rate.count, rate.denominator) == (88, 109)
    assert (rate.estimate, rate.lower, rate.upper) == pytest.approx((0.807, 0.721, 0.877))
    assert rate.method.startswith("as published (method not stated)")
    assert "count derived" in rate.method


def test_without_a_published_ci_the_interval_is_exact_from_n_over_N() -> None:
    rate = published_proportion(figure("d2017-cr-cri"))               # Blood Adv 2017: 49/72, no CI printed
    assert isinstance(rate, ProportionEstimate)
    assert (rate.lower, rate.upper) == pytest.approx(clopper_pearson(49, 72))
    assert rate.method == "Clopper–Pearson exact from 49/72, computed here"


def test_a_count_the_source_did_not_print_is_the_only_whole_count_giving_its_percentage() -> None:
    assert published_count(figure("iv2019-cr-cri-ino")) == (121, "derived from the printed percentage")  # 73.8% of 164
    rate = published_proportion(figure("iv2019-cr-cri-ino"))
    assert isinstance(rate, ProportionEstimate) and rate.estimate == pytest.approx(0.738)
    assert (rate.lower, rate.upper) == pytest.approx(clopper_pearson(121, 164))


def test_no_denominator_no_interval() -> None:
    found = published_proportion(figure("t2023-cr-cri"))              # Torrent 2023: 64%, no denominator
    assert isinstance(found, NotDrawn)
    assert "no denominator" in found.reason
    assert " · " not in found.describe()                              # a caption splits its items there


def test_published_cr_cri_is_of_inotuzumab_arms_of_other_studies_only() -> None:
    rates = published_cr_cri()
    ids = {f.row_id for f in rates.figures} | {n.figure.row_id for n in rates.not_drawn}
    assert "iv2016-cr-cri-soc" not in ids and "iv2019-cr-cri-soc" not in ids      # comparator arms
    assert "p2025-cr-cri" not in ids                                              # the paper's own cohort
    assert {"iv2016-cr-cri-ino", "iv2019-cr-cri-ino", "d2017-cr-cri"} <= {f.row_id for f in rates.figures}
    assert "t2023-cr-cri" in {n.figure.row_id for n in rates.not_drawn}
    assert len(rates.rows) == len(rates.figures)
    for row in rates.rows:
        p = row.rate
        assert isinstance(p, ProportionEstimate)
        assert 0 <= p.lower <= p.estimate <= p.upper <= 1, row.label
    assert len({r.label for r in rates.rows}) == len(rates.rows)


def test_chosen_studies_restrict_the_rows_and_an_unverified_figure_is_marked() -> None:
    rates = published_cr_cri(("inovate2016",))
    assert [f.row_id for f in rates.figures] == ["iv2016-cr-cri-ino"]
    assert not rates.any_unverified
    advani = published_cr_cri(("advani2014",))
    assert advani.any_unverified and advani.rows[0].label.endswith("†")
    assert published_rates("cr_cri", ()).rows == ()


# ------------------------------------------------------------------------------------------ survival points
def test_published_os_points_medians_at_one_half_milestones_at_their_time() -> None:
    points = {p.row_id: p for p in published_survival_points()}
    median = points["iv2016-os-ino"]
    assert (median.kind, median.months, median.survival, median.lower, median.upper) == (
        "median", 7.7, 0.5, 6.0, 9.2)
    milestone = points["iv2016-os-2y-ino"]
    assert (milestone.kind, milestone.months, milestone.survival) == ("milestone", 24.0, 0.23)
    assert (milestone.lower, milestone.upper) == pytest.approx((0.16, 0.30))
    assert "ref9-os-censored-hsct" not in points                     # another definition: censored at HSCT
    assert not any(k.startswith("p2025") or k.endswith("-soc") for k in points)
    assert all(p.citation for p in points.values())
    assert [p.row_id for p in published_survival_points(("inovate2019",))] == ["iv2019-os-ino", "iv2019-os-2y-ino"]


# ------------------------------------------------------------------------------------------ comparable slices
def test_the_inovate_slice_applies_salvage_1_or_2_and_states_what_it_cannot_match() -> None:
    spec, matched, unmatched = comparable_slice("inovate2016")
    assert spec == FilterSpec(salvage_lines=(1, 2))
    assert any("salvage" in c.text for c in matched)
    cannot = {c.text: c.how for c in unmatched}
    for words in ("CD22", "TKI", "ECOG", "5% bone-marrow blasts"):
        assert any(words in text for text in cannot), words
    assert all(how for how in cannot.values())                        # each says why
    assert comparable_slice("inovate2019") == comparable_slice("inovate") == comparable_slice("inovate2016")


def test_second_or_later_salvage_takes_the_cohorts_lines() -> None:
    assert comparable_slice("deangelo2017", salvage_lines=(1, 2, 3, 4)).spec.salvage_lines == (2, 3, 4)
    # no qualifying line in the cohort: an empty slice, never all patients
    assert comparable_slice("advani2014", salvage_lines=(1,)).spec.salvage_lines == (2,)


def test_every_slice_names_its_studies_and_every_unmatched_criterion_says_why() -> None:
    for found in comparable_slices():
        assert found.study_keys and found.title and found.population
        for c in found.unmatched:
            assert c.how and c.source
            if c.count_text:      # every field its sentence needs is a measure the page fetches (or n)
                fields = {name for name in ("n", *c.measures)}
                assert c.count_text.format(**dict.fromkeys(fields, 0))
    assert set(ELIGIBILITY) == {s.key for s in comparable_slices()}


def test_an_unknown_study_has_no_slice() -> None:
    with pytest.raises(ValueError, match="No eligibility is kept for 'nope'"):
        comparable_slice("nope")


# ------------------------------------------------------------------------------------------ tables
def test_table9_differences_are_the_table9_discrepancies() -> None:
    frame = table9_differences_frame()
    expected = {d.discrepancy_id for d in discrepancies() if d.table9_column}
    assert set(frame["Discrepancy"]) == expected
    printed, supported = table9_frame(as_printed=True), table9_frame(as_printed=False)
    assert list(printed.columns) == list(supported.columns) and len(printed) == len(supported) == 6
    row = frame[frame["Discrepancy"] == "D06"].iloc[0]
    assert row["As printed"] == "CR 9/49 (18%); CRi 4/49 (8%)"
    assert row["As the sources support"] == "CR 9/49 (18%); marrow CR 19/49 (39%)"


def test_every_reference_row_is_listed_with_its_source() -> None:
    frame = reference_frame()
    assert len(frame) == len({f for f in frame["Row"]})
    assert frame["Source"].str.len().min() > 0
    only = reference_frame(studies=["torrent2023"], endpoints=["os_median"])
    assert list(only["Row"]) == ["t2023-os"] and only.iloc[0]["CI"] == "95% CI 1.9–6.1"


def test_published_vod_and_hsct_rates_name_their_definitions() -> None:
    frame = published_rates_frame()
    assert set(frame["Figure"]) == {"VOD/SOS", "HSCT"}
    assert not frame["Arm"].str.contains("standard").any()
    vod = frame[frame["Definition"].str.contains("among transplanted")].iloc[0]
    assert vod["n/N (%)"] == "6/36 (17%)"


def test_side_by_side_writes_the_cohorts_figure_once_per_endpoint() -> None:
    frame = side_by_side_frame(("inovate2016", "inovate2019"), {"cr_cri": ("19/32 · 59.4%", "CR/CRi = …")})
    cr = frame[frame["Study's definition"].str.startswith("CR or CRi")]
    assert list(cr["This cohort (comparable slice)"]) == ["19/32 · 59.4%", ""]
    assert frame.iloc[0]["Published"] == "Kantarjian et al., 2016: 88/109 (80.7%), 95% CI 72.1–87.7"
    assert PUBLISHED_LABEL.startswith("Published, not randomised")


def test_published_estimates_keep_their_printed_value() -> None:
    rate = published_proportion(figure("iv2019-hsct-ino"))
    assert isinstance(rate, ProportionEstimate)
    assert Decimal(str(round(rate.estimate * 100, 1))) == figure("iv2019-hsct-ino").estimate
