"""The paper check: every published figure recomputed on the default cohort, and proof it can fail.

The published figures (value as printed, the table or sentence it comes from, the conflict) are read
from core/paper/targets.csv, the one copy the check itself reads. tests/golden_paper_figures.csv adds,
per figure, the status the reconstruction must reach and, where it differs from the published value,
the value it must compute (empty: the published one). The counting rules and the conflicts are in
shared/reference/paper-targets.md and paper-conflicts.md.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.database import Cohort, open_cohort
from core.paper import (
    CONFLICTS,
    EXACT,
    METADATA,
    MISMATCH,
    SECTIONS,
    TARGETS,
    TARGETS_PATH,
    UNATTAINABLE_ROUNDING,
    UNATTAINABLE_STRUCTURAL,
    PaperCheck,
    check_paper,
    printed_decimals,
)
from core.store import write_cohort_file
from data.build_db import DEFAULT_COHORT_PATH, build
from tests.cohort_factory import TinyPatient, tiny_tables, write_tiny_cohort

GOLDEN_PATH = Path(__file__).resolve().parent / "golden_paper_figures.csv"


def _golden_rows() -> list[dict[str, str]]:
    """Each golden row joined with its published figure in targets.csv; an empty expected value is the published one."""
    with TARGETS_PATH.open(encoding="utf-8", newline="") as fh:
        published = {r["target_id"]: r for r in csv.DictReader(fh)}
    with GOLDEN_PATH.open(encoding="utf-8", newline="") as fh:
        expected = list(csv.DictReader(fh))
    rows = [{**published.get(r["target_id"], {}), **r} for r in expected]
    for row in rows:
        row["expected_computed"] = row["expected_computed"] or row.get("published", "")
    return rows


GOLDEN: list[dict[str, str]] = _golden_rows()

# The 11 figures no 32-patient cohort can reproduce together with the rest (paper-conflicts.md):
# id → (published, computed on the reconstruction, status, conflict)
EXPECTED_MISSES: dict[str, tuple[str, str, str, str]] = {
    "E08": ("9", "4", UNATTAINABLE_STRUCTURAL, "C02"),
    "E16": ("5", "6", UNATTAINABLE_STRUCTURAL, "C02"),
    "A22": ("56.4", "56.3", UNATTAINABLE_ROUNDING, "C05"),
    "F31": ("84.8", "84.4", UNATTAINABLE_ROUNDING, "C06"),
    "F35": ("43.7", "43.8", UNATTAINABLE_ROUNDING, "C06"),
    "F27": ("16.8", "16.7", UNATTAINABLE_ROUNDING, "C06"),
    "F03": ("21.87", "21.88", UNATTAINABLE_ROUNDING, "C06"),
    "G15": ("60.8", "58.8", UNATTAINABLE_ROUNDING, "C06"),
    "M10": ("94.8", "94.7", UNATTAINABLE_ROUNDING, "C07"),
    "M11": ("5.2", "5.3", UNATTAINABLE_ROUNDING, "C07"),
    "E18": ("—", "6.0", UNATTAINABLE_ROUNDING, "C09"),
}


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def reconstructed_cohort() -> Iterator[Cohort]:
    """The default cohort file (data/ino_cohort.duckdb), built from the reconstruction when missing."""
    if not DEFAULT_COHORT_PATH.exists():
        build()
    cohort = open_cohort(DEFAULT_COHORT_PATH)
    yield cohort
    cohort.close()


@pytest.fixture(scope="session")
def paper(reconstructed_cohort: Cohort) -> PaperCheck:
    return check_paper(reconstructed_cohort)


# ------------------------------------------------------------------ the golden table documents the targets
def test_golden_table_lists_every_target_once_with_its_published_value() -> None:
    assert [r["target_id"] for r in GOLDEN] == [t.target_id for t in TARGETS]
    assert len(GOLDEN) == 170                       # 169 data-derived + A51 (metadata)
    for row, target in zip(GOLDEN, TARGETS):
        assert row["published"] == target.published, row["target_id"]
        assert row["section"] == target.section, row["target_id"]
        assert row["where"], row["target_id"]


def test_golden_statuses_are_the_documented_ones() -> None:
    by_status = {r["target_id"]: r["expected_status"] for r in GOLDEN}
    assert {k for k, s in by_status.items() if s not in (EXACT, METADATA)} == set(EXPECTED_MISSES)
    assert [k for k, s in by_status.items() if s == METADATA] == ["A51"]
    for target_id, (published, computed, status, conflict) in EXPECTED_MISSES.items():
        row = next(r for r in GOLDEN if r["target_id"] == target_id)
        assert (row["published"], row["expected_computed"], row["expected_status"], row["conflict"]) == \
            (published, computed, status, conflict)


# ------------------------------------------------------------------ the default cohort
def test_158_of_169_published_figures_are_reproduced_exactly(paper: PaperCheck) -> None:
    assert paper.n_counted == 169
    assert paper.n_exact == 158
    assert len(paper.figures) == 170


def test_the_misses_are_exactly_the_documented_conflicts(paper: PaperCheck) -> None:
    got = {f.target_id: (f.published, f.computed, f.status, f.conflict) for f in paper.misses}
    assert got == EXPECTED_MISSES


@pytest.mark.parametrize("row", GOLDEN, ids=[r["target_id"] for r in GOLDEN])
def test_golden_row(paper: PaperCheck, row: dict[str, str]) -> None:
    figure = paper.figure(row["target_id"])
    assert figure.published == row["published"]
    assert figure.computed == row["expected_computed"]
    assert figure.status == row["expected_status"]
    assert figure.conflict == row["conflict"]


def test_status_is_exact_exactly_when_the_strings_agree(paper: PaperCheck) -> None:
    for f in paper.figures:
        if f.status != METADATA:
            assert (f.status == EXACT) == (f.computed == f.published), f.target_id


def test_a_published_number_is_never_shown_as_computed(paper: PaperCheck) -> None:
    for f in paper.misses:
        assert f.computed != f.published
        assert f.reason and f.reason != "not a documented conflict", f.target_id


def test_e08_explains_the_crude_reading(paper: PaperCheck) -> None:
    reason = paper.figure("E08").reason
    assert "9/32 = 28.1% exactly" in reason
    assert "crude proportion" in reason
    assert "at most 6 at risk" in reason


def test_crude_os_view_of_c02(paper: PaperCheck) -> None:
    crude = paper.crude_os
    assert crude is not None
    assert (crude.n, crude.deaths, crude.deaths_by_6, crude.followed_to_12) == (32, 17, 14, 4)
    assert (crude.lost_by_6, crude.lost_6_to_12) == (6, 5)
    rows = dict(crude.rows())
    assert rows["Alive at the end of follow-up (crude)"] == "15/32 = 46.9%"
    assert rows["Alive and followed at 12 months (not LTF)"] == "4/32 = 12.5%"


def test_definitions_in_force_are_stated(paper: PaperCheck) -> None:
    for key in ("RFS origin", "DOR population", "Deep response", "Table 6 denominators", "KM CI method",
                "Month length"):
        assert paper.definitions[key], key
    assert "first InO dose" in paper.definitions["RFS origin"]
    assert "(17 of 19)" in paper.definitions["DOR population"]
    assert "30.4375" in paper.definitions["Month length"]


def test_sections_follow_the_paper(paper: PaperCheck) -> None:
    seen = list(dict.fromkeys(f.section for f in paper.figures))
    assert seen == [s for s in SECTIONS if s in seen]
    assert {f.section for f in paper.figures} <= set(SECTIONS)


def test_proportions_carry_an_exact_ci_as_supplementary(paper: PaperCheck) -> None:
    assert "19/32 · 59.4% (95% CI" in paper.figure("B02").supplementary
    assert "not published" in paper.figure("B02").supplementary


# ------------------------------------------------------------------ unit: printed precision
@pytest.mark.parametrize("printed, decimals", [("56.25", 2), ("61", 0), ("6.0", 1), ("—", 1), ("21.87", 2)])
def test_printed_decimals(printed: str, decimals: int) -> None:
    assert printed_decimals(printed) == decimals


def test_every_documented_miss_names_the_value_it_honours() -> None:
    for target_id, conflict in CONFLICTS.items():
        if conflict.miss_status is not None:
            assert conflict.reconstructed is not None, target_id


# ------------------------------------------------------------------ the check can fail
def _tiny_cohort(tmp_path: Path, people: list[TinyPatient]) -> Cohort:
    return open_cohort(write_tiny_cohort(tmp_path / "tiny.duckdb", people))


def test_a_tiny_cohort_shows_its_own_figures_as_mismatches(tmp_path: Path) -> None:
    people = [
        TinyPatient("P01"),
        TinyPatient("P02", response="NR", mrd=None, death_day=100, cause="relapse"),
        TinyPatient("P03", response=None, mrd=None, lost=True, last_contact_day=20, safety_evaluable=False),
        TinyPatient("P04", age_years=70, salvage_line=2, hsct_day=60, aes=(("VOD", 3, 70),), death_day=90,
                    cause="VOD pneumonia"),
    ]
    cohort = _tiny_cohort(tmp_path, people)
    try:
        check = check_paper(cohort)
    finally:
        cohort.close()
    a01 = check.figure("A01")
    assert (a01.published, a01.computed, a01.status, a01.reason) == ("32", "4", MISMATCH, "not a documented conflict")
    assert check.figure("E14").computed == "2" and check.figure("E14").status == MISMATCH
    assert check.figure("G16").computed == "1 of 1" and check.figure("G16").status == MISMATCH
    # a documented conflict only explains the value it honours: F31 is 0/4 here, so it is a plain mismatch
    f31 = check.figure("F31")
    assert (f31.computed, f31.status, f31.conflict) == ("0.0", MISMATCH, "C06")
    # labs were not recorded on the tiny response rows, so B22 cannot be checked
    assert check.figure("B22").computed == "n/a" and check.figure("B22").status == MISMATCH
    assert check.n_exact < 20 and check.n_counted == 169
    for f in check.figures:
        if f.status != METADATA:
            assert (f.status == EXACT) == (f.computed == f.published), f.target_id


def test_a_documented_conflict_that_matches_is_shown_as_unexpected(tmp_path: Path) -> None:
    # 22 of 39 patients at salvage 2 is 56.41%, which prints as the 56.4 no n/32 can give (C05)
    people = [TinyPatient(f"P{i:02d}", salvage_line=2 if i < 22 else 1) for i in range(39)]
    cohort = _tiny_cohort(tmp_path, people)
    try:
        a22 = check_paper(cohort).figure("A22")
    finally:
        cohort.close()
    assert (a22.computed, a22.status, a22.conflict) == ("56.4", EXACT, "C05")
    assert "documented as unattainable" in a22.reason


def test_response_rows_that_break_the_cr_definition_are_inconsistent(tmp_path: Path) -> None:
    people = [TinyPatient("P01", response=None, mrd=None)]
    people[0].extra_events.append(dict(patient_id="P01", event_date=people[0].start.replace(day=31),
                                       event_type="response", cycle=1, response="CR", marrow_blast_pct=12.0,
                                       platelets_10e9_l=150.0, anc_10e9_l=2.0, emd_present=False))
    cohort = _tiny_cohort(tmp_path, people)
    try:
        b22 = check_paper(cohort).figure("B22")
    finally:
        cohort.close()
    assert (b22.computed, b22.status) == ("inconsistent", MISMATCH)
    assert "0/1 CR/CRi assessments" in b22.reason


def test_one_changed_death_on_the_reconstruction_is_caught(tmp_path: Path) -> None:
    from data.reconstruction.expand import reconstructed_tables

    patients, events, meta = reconstructed_tables()
    deaths = events[events["event_type"] == "death"]
    # turn the last death into a last contact on the same day, alive at cut-off
    row = deaths.sort_values(["event_date", "patient_id"]).index[-1]
    events = events.copy()
    events.loc[row, ["event_type", "cause", "followup_status"]] = ["last_contact", None, "alive at cut-off"]
    path = write_cohort_file(tmp_path / "changed.duckdb", patients, events, dict(zip(meta["key"], meta["value"])))
    cohort = open_cohort(path)
    try:
        check = check_paper(cohort)
    finally:
        cohort.close()
    e14 = check.figure("E14")
    assert (e14.published, e14.computed, e14.status) == ("17", "16", MISMATCH)
    assert check.n_exact < 158
    assert not {"E14", "E15"} <= {f.target_id for f in check.figures if f.status == EXACT}


def test_tiny_tables_round_trip_is_what_the_check_reads(tmp_path: Path) -> None:
    # guards the factory the failure tests rely on
    patients, events = tiny_tables([TinyPatient("P01"), TinyPatient("P02", sex="F")])
    assert len(patients) == 2 and set(events["event_type"]) >= {"ino_dose", "response", "mrd", "last_contact"}
