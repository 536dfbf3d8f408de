"""Exported files are named after the analysis and the slice: deterministic, filesystem-safe, short."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.filters import FilterSpec
from core.provenance import MAX_SLICE_TAG, file_stem, slice_provenance, slice_tag, slug

SAFE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")

# FilterSpec → slice tag, a table that reads as the naming rule
CASES: list[tuple[FilterSpec, str]] = [
    (FilterSpec(), "all-patients"),
    (FilterSpec(include_missing=False), "all-patients"),                       # no filter: nothing to drop
    (FilterSpec(salvage_lines=(2, 3), blast_burden="high"), "salvage-2-3_blasts-ge-50"),
    (FilterSpec(salvage_lines=(3, 1)), "salvage-1-3"),                          # lines 1 and 3, sorted
    (FilterSpec(salvage_lines=(1, 2, 3)), "salvage-1-2-3"),                     # not the same name as 1 and 3
    (FilterSpec(blast_burden="low", blast_threshold=37.5), "blasts-lt-37p5"),
    (FilterSpec(dose_groups=(">1.8", "<1.8")), "dose-lt-1p8-or-gt-1p8"),
    (FilterSpec(dose_min_mg_m2=1.2, dose_max_mg_m2=1.8), "dose-1p2-to-1p8"),
    (FilterSpec(hsct=False), "no-hsct"),
    (FilterSpec(age_min=60), "age-ge-60"),
    (FilterSpec(age_max=39.5), "age-le-39p5"),
    (FilterSpec(sexes=("M", "F")), "female-or-male"),
    (FilterSpec(centres=("AIIMS, New Delhi",)), "centre-aiims-new-delhi"),
    (FilterSpec(ph_statuses=("Ph-",)), "ph-neg"),
    (FilterSpec(disease_statuses=("refractory",), emd_baseline=True), "refractory_emd"),
    (FilterSpec(salvage_lines=(1,), include_missing=False), "salvage-1_missing-excluded"),
]


@pytest.mark.parametrize(("spec", "tag"), CASES)
def test_slice_tag(spec: FilterSpec, tag: str) -> None:
    assert slice_tag(spec) == tag


def test_file_stem_names_the_analysis_and_the_slice() -> None:
    spec = FilterSpec(salvage_lines=(2, 3), blast_burden="high")
    assert file_stem("Overall survival", spec) == "overall-survival_salvage-2-3_blasts-ge-50"
    assert f"{file_stem('Overall survival', spec)}_slide.png" == "overall-survival_salvage-2-3_blasts-ge-50_slide.png"
    assert file_stem("CR-CRi by subgroup", FilterSpec()) == "cr-cri-by-subgroup_all-patients"
    assert file_stem("Overall survival", None) == "overall-survival"
    assert file_stem("", FilterSpec()) == "export_all-patients"


def test_provenance_carries_the_spec_for_file_names() -> None:
    spec = FilterSpec(hsct=True)
    prov = slice_provenance(spec, n_slice=3)
    assert prov.spec == spec and file_stem("Safety", prov.spec) == "safety_hsct"


def test_user_text_never_reaches_a_name_unsanitised() -> None:
    hostile = FilterSpec(centres=("../../etc/passwd", "<script>alert(1)</script>", "Centre Ünïcode ≥ 2 & Co",
                                  "東京", "x" * 200))
    tag = slice_tag(hostile)
    assert SAFE.match(tag) and len(tag) <= MAX_SLICE_TAG
    assert slug("Centre Ünïcode ≥ 2 & Co") == "centre-unicode-ge-2-and-co"
    assert slug("東京") == ""
    assert slice_tag(FilterSpec(centres=("東京",))).startswith("centre-h")       # a hash, not an empty name


def test_long_tags_are_cut_between_parts_and_stay_distinct() -> None:
    base = dict(salvage_lines=(1, 2, 3), blast_burden="high", dose_groups=("<1.8", "1.8"), hsct=False,
                age_min=18.0, age_max=60.0, sexes=("F",), ph_statuses=("Ph+",))
    one = slice_tag(FilterSpec(**base, centres=("Tata Memorial Centre",)))
    two = slice_tag(FilterSpec(**base, centres=("Christian Medical College",)))
    assert len(one) <= MAX_SLICE_TAG and len(two) <= MAX_SLICE_TAG
    assert one != two
    assert one.startswith("salvage-1-2-3_blasts-ge-50_")
    assert slice_tag(FilterSpec(**base, centres=("Tata Memorial Centre",))) == one      # deterministic


@settings(max_examples=200, deadline=None)
@given(centres=st.lists(st.text(min_size=1, max_size=200).filter(str.strip), max_size=4, unique=True),
       lines=st.lists(st.integers(1, 9), max_size=4, unique=True),
       analysis=st.text(max_size=300))
def test_any_slice_gives_a_safe_bounded_name(centres: list[str], lines: list[int], analysis: str) -> None:
    stem = file_stem(analysis, FilterSpec(centres=tuple(centres), salvage_lines=tuple(lines)))
    assert SAFE.match(stem), stem
    assert len(stem) <= 40 + 1 + MAX_SLICE_TAG
