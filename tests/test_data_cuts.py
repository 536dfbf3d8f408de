"""Data cuts: a second cut made from the first by adding patients and moving dates, and the "What changed"
comparison that must show exactly those changes, with each headline figure in both cuts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from core.cuts import compare_cuts, figure_move, headline_figures
from core.database import open_cohort
from core.importer import CentreFiles, CohortFiles, InputFile, export_import_format, import_centres


def _later(text: str, days: int) -> str:
    return (dt.date.fromisoformat(text) + dt.timedelta(days=days)).isoformat()


def _import(patients: pd.DataFrame, events: pd.DataFrame, folder: Path, **options) -> Path:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    patients.to_csv(folder / "patients.csv", index=False)
    events.to_csv(folder / "events.csv", index=False)
    files = CohortFiles.from_csv(InputFile.from_path(folder / "patients.csv"), InputFile.from_path(folder / "events.csv"))
    result = import_centres([CentreFiles("", files)], options.pop("label", ""), **options)
    assert result.ok, result.report.frame().to_string()
    assert result.path is not None
    return result.path


@pytest.fixture(scope="module")
def two_cuts(default_cohort: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cuts")
    cohort = open_cohort(default_cohort)
    try:
        patients, events = export_import_format(cohort)
    finally:
        cohort.close()
    first = _import(patients, events, tmp / "cut1", label="Registry", directory=tmp / "cohorts")
    # cut 2: two new patients (copies of P01 and P02 under new ids), P03's last contact moved a month later
    # with its data cut-off, P08's death a month later, and P07's first adverse event graded differently
    new_p = patients[patients["patient_id"].isin(["P01", "P02"])].assign(patient_id=["P33", "P34"])
    new_e = events[events["patient_id"].isin(["P01", "P02"])].copy()
    new_e["patient_id"] = new_e["patient_id"].map({"P01": "P33", "P02": "P34"})
    patients2 = pd.concat([patients, new_p], ignore_index=True)
    events2 = pd.concat([events, new_e], ignore_index=True)
    for pid, event_type in (("P03", "last_contact"), ("P08", "death")):
        rows = (events2["patient_id"] == pid) & (events2["event_type"] == event_type)
        assert rows.sum() == 1, (pid, event_type)
        events2.loc[rows, "event_date"] = events2.loc[rows, "event_date"].map(lambda d: _later(d, 30))
    at = patients2["patient_id"] == "P03"
    patients2.loc[at, "data_cutoff_date"] = patients2.loc[at, "data_cutoff_date"].map(lambda d: _later(d, 30))
    ae = events2.index[(events2["patient_id"] == "P07") & (events2["event_type"] == "adverse_event")][0]
    events2.loc[ae, "ae_grade"] = "4" if events2.loc[ae, "ae_grade"] != "4" else "3"
    second = _import(patients2, events2, tmp / "cut2", new_cut_of=first, directory=tmp / "cohorts")
    return first, second


def _compare(first: Path, second: Path):  # type: ignore[no-untyped-def]
    a, b = open_cohort(first), open_cohort(second)
    try:
        return compare_cuts(a, b), headline_figures(a), headline_figures(b)
    finally:
        a.close()
        b.close()


def test_what_changed_lists_exactly_the_changes_made(two_cuts: tuple[Path, Path]) -> None:
    comparison, _, _ = _compare(*two_cuts)
    assert (comparison.earlier.cut, comparison.later.cut) == (1, 2)
    assert comparison.new_patients["patient_id"].tolist() == ["P33", "P34"]
    assert comparison.new_patients["centre"].tolist() == ["Centre A", "Centre B"]
    assert comparison.removed_patients.empty
    assert comparison.changed_values.values.tolist() == [["P03", "data_cutoff_date", "2023-07-10", "2023-08-09"]]
    changes = comparison.event_changes
    assert changes[["patient_id", "event_type", "change"]].values.tolist() == [
        ["P03", "last_contact", "changed"], ["P07", "adverse_event", "changed"], ["P08", "death", "changed"]]
    moved = changes.iloc[[0, 2]]
    assert all(_later(a, 30) == b for a, b in zip(moved["event_date (earlier)"], moved["event_date (later)"]))
    assert moved["detail"].str.fullmatch(r"event_date \S+ → \S+").all()
    assert changes["detail"].iloc[1] in ("ae_grade 3 → 4", "ae_grade 4 → 3")
    assert comparison.counts() == {"new patients": 2, "removed patients": 0, "patients with changed values": 1,
                                   "new events": 0, "changed events": 3, "removed events": 0}
    listed = comparison.change_list()
    assert listed["change"].tolist() == ["new", "new", "changed", "changed", "changed", "changed"]
    assert listed["what"].tolist() == ["patient"] * 3 + ["event"] * 3
    assert listed["detail"].iloc[2] == "data_cutoff_date 2023-07-10 → 2023-08-09"


def test_each_headline_figure_in_both_cuts(two_cuts: tuple[Path, Path]) -> None:
    comparison, before, after = _compare(*two_cuts)
    frame = comparison.figures_frame()
    assert frame["figure"].tolist() == ["Patients", "CR/CRi", "Median OS", "6-month OS", "12-month OS", "VOD",
                                        "HSCT"]
    assert frame["cut 1"].tolist() == [f.text() for f in before]
    assert frame["cut 2"].tolist() == [f.text() for f in after]
    assert frame["change"].tolist() == [figure_move(a, b) for a, b in zip(before, after)]
    assert frame.loc[0, "change"] == "+2"
    cr = dict(zip(frame["figure"], zip(before, after)))["CR/CRi"]
    assert (cr[0].denominator, cr[1].denominator) == (32, 34)


def test_a_cut_compared_with_itself_has_no_changes(two_cuts: tuple[Path, Path]) -> None:
    comparison, _, _ = _compare(two_cuts[0], two_cuts[0])
    assert set(comparison.counts().values()) == {0} and comparison.change_list().empty
    assert set(comparison.figures_frame()["change"]) == {"no change"}
