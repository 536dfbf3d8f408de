"""Several centres, one cohort: each centre's workbook in its own words, mapped, checked per centre, joined;
patient ids two centres share caught (or prefixed); a new cut that swaps one centre's rows only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.cohorts import list_cohorts, remove_cohort
from core.database import CohortError, open_cohort
from core.importer import (
    DROP,
    CentreFiles,
    CohortFiles,
    ImportMapping,
    InputFile,
    TableMapping,
    fetch_table_rows,
    import_centres,
    propose_mapping,
    read_for_mapping,
    with_choices,
)
from core.paper import METADATA, check_paper
from core.queries import fetch_study_meta
from tests.centre_files import centre_frames, write_centre_workbooks, write_workbook
from tests.test_import_roundtrip import endpoints

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "bad_files"


def workbook_sources(paths: dict[str, Path]) -> list[CentreFiles]:
    return [CentreFiles(centre, CohortFiles.from_workbook(InputFile.from_path(p))) for centre, p in paths.items()]


def proposed(sources: list[CentreFiles]) -> ImportMapping:
    """The proposal as a user would confirm it: everything as proposed, the MRN column dropped."""
    mapping = propose_mapping(read_for_mapping(sources)).mapping
    return with_choices(mapping, "patients", columns={**mapping.patients.columns, "mrn": DROP})


def paper_figures(path: Path) -> pd.DataFrame:
    cohort = open_cohort(path)
    try:
        check = check_paper(cohort)
    finally:
        cohort.close()
    frame = check.to_frame()
    return frame[frame["Status"] != METADATA].reset_index(drop=True)   # study_meta is not data


@pytest.fixture(scope="module")
def five_centres(default_cohort: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_centre_workbooks(default_cohort, tmp_path_factory.mktemp("centres"))


def test_five_workbooks_in_their_own_words_give_the_default_cohorts_endpoints(
        default_cohort: Path, five_centres: dict[str, Path], tmp_path: Path) -> None:
    sources = workbook_sources(five_centres)
    result = import_centres(sources, "Five centres", mapping=proposed(sources), directory=tmp_path)
    assert result.ok, result.report.frame().to_string()
    assert result.report.n_warnings == 0 and (result.n_patients, result.cut) == (32, 1)
    for table in ("patients", "events"):
        a, b = open_cohort(default_cohort), open_cohort(result.path)
        try:
            key = ["patient_id"] if table == "patients" else list(fetch_table_rows(a, table).columns)
            pd.testing.assert_frame_equal(
                fetch_table_rows(a, table).sort_values(key, ignore_index=True, na_position="last"),
                fetch_table_rows(b, table).sort_values(key, ignore_index=True, na_position="last"))
        finally:
            a.close()
            b.close()
    before, after = paper_figures(default_cohort), paper_figures(result.path)
    pd.testing.assert_frame_equal(before, after)
    assert (after["Status"] == "exact").sum() == (before["Status"] == "exact").sum() >= 158
    assert endpoints(default_cohort) == endpoints(result.path)      # CR/CRi, OS, RFS, DOR, VOD, HSCT, Table 1


def test_problems_are_reported_per_centre_in_the_users_words(five_centres: dict[str, Path],
                                                             tmp_path: Path) -> None:
    patients, events = centre_frames(*_sheets(five_centres["Centre B"]))["Centre B"]
    patients.loc[patients.index[2], "Gender"] = "Unknown"
    write_workbook(tmp_path / "centre_b.xlsx", patients, events)
    paths = dict(five_centres, **{"Centre B": tmp_path / "centre_b.xlsx"})
    sources = workbook_sources(paths)
    result = import_centres(sources, "Five centres", mapping=proposed(sources), directory=tmp_path / "cohorts")
    assert not result.ok and not (tmp_path / "cohorts").exists()
    by_centre = result.problems_by_centre()
    assert list(by_centre) == ["Centre B"]
    assert by_centre["Centre B"][["file", "row", "column", "value"]].values.tolist() == [
        ["centre_b.xlsx (sheet Patients)", 4, "gender → sex", "Unknown"]]


def _sheets(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A centre's workbook back in the import format, so a test can change a cell and write it again."""
    from core.importer import ProblemReport, apply_mapping, read_cohort_files

    source = workbook_sources({"Centre B": path})
    mapping = proposed(source)
    report = ProblemReport()
    patients, events = read_cohort_files(source[0].files, report)
    p = apply_mapping(patients, mapping.patients, report, derived={"centre": "Centre B"})
    e = apply_mapping(events, mapping.events, report)
    assert p is not None and e is not None
    cohort_patients = p.frame.reindex(columns=list(fetch_columns("patients"))).fillna("")
    cohort_events = e.frame.reindex(columns=list(fetch_columns("events"))).fillna("")
    return cohort_patients, cohort_events


def fetch_columns(table: str) -> tuple[str, ...]:
    from core.contract import EVENT_COLUMNS, PATIENT_COLUMNS

    return PATIENT_COLUMNS if table == "patients" else EVENT_COLUMNS


def csv_centre(tmp_path: Path, name: str, patients: str = "patients.csv", events: str = "events.csv",
               edit=lambda text: text) -> CentreFiles:  # type: ignore[no-untyped-def]
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "patients.csv").write_text(edit((BAD / patients).read_text()))
    (folder / "events.csv").write_text((BAD / events).read_text())
    return CentreFiles(name, CohortFiles.from_csv(InputFile.from_path(folder / "patients.csv"),
                                                  InputFile.from_path(folder / "events.csv")))


def test_a_patient_id_two_centres_share_is_named_by_both_files_and_rows(tmp_path: Path) -> None:
    sources = [csv_centre(tmp_path, "Centre X"), csv_centre(tmp_path, "Centre Y")]
    result = import_centres(sources, "Two centres", directory=tmp_path / "cohorts")
    assert not result.ok
    errors = [p for p in result.report.problems() if p.severity == "error" and p.column == "patient_id"]
    # patients.csv of both: the problem names the centre with the file
    assert [(p.file, p.row, p.column, p.value) for p in errors] == [
        ("Centre Y · patients.csv", 2, "patient_id", "P01"), ("Centre Y · patients.csv", 3, "patient_id", "P02")]
    assert errors[0].expected.startswith("a patient_id no other centre uses: P01 is also a patient of Centre X "
                                         "(Centre X · patients.csv row 2)")
    assert "--prefix-ids" in errors[0].expected
    # the file's own centre column (Centre X) disagrees with the centre Y was given as
    assert {p.column for p in result.report.problems() if p.file.startswith("Centre Y")} == {"patient_id", "centre"}


def test_prefixed_ids_keep_two_centres_apart(tmp_path: Path) -> None:
    untag = lambda text: text.replace("Centre X", "")  # noqa: E731 - the centre comes from the name given
    sources = [csv_centre(tmp_path, "Centre X", edit=untag), csv_centre(tmp_path, "Centre Y", edit=untag)]
    result = import_centres(sources, "Two centres", prefix_ids=True, directory=tmp_path / "cohorts")
    assert result.ok, result.report.frame().to_string()
    cohort = open_cohort(result.path)
    try:
        patients = fetch_table_rows(cohort, "patients")
        events = fetch_table_rows(cohort, "events")
        meta = fetch_study_meta(cohort)
    finally:
        cohort.close()
    assert patients[["patient_id", "centre"]].values.tolist() == [
        ["Centre X-P01", "Centre X"], ["Centre X-P02", "Centre X"], ["Centre Y-P01", "Centre Y"],
        ["Centre Y-P02", "Centre Y"]]
    assert set(events["patient_id"]) == set(patients["patient_id"])
    assert meta["patient_ids_prefixed"] == "true" and meta["centres"] == "Centre X; Centre Y"
    assert meta["cut"] == "1" and len(meta["lineage"]) == 32


def test_a_mapping_that_leaves_a_required_column_empty_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    source = csv_centre(tmp_path, "Centre X", edit=lambda text: text.replace("ino_start_date", "start"))
    mapping = ImportMapping(patients=TableMapping(columns={"start": DROP}))
    result = import_centres([source], "Refused", mapping=mapping, directory=tmp_path / "cohorts")
    assert not result.ok and result.path is None
    errors = [p for p in result.report.problems() if p.severity == "error"]
    assert [(p.file, p.row, p.column, p.value) for p in errors] == [
        ("patients.csv", 1, "ino_start_date", "(no column mapped)")]
    assert errors[0].expected.startswith("a column of the file mapped to ino_start_date, or one value for every "
                                         "row — ino_start_date is required (a value on every row")
    assert not (tmp_path / "cohorts").exists()


def test_a_new_cut_swaps_one_centres_rows_and_keeps_the_earlier_cut_read_only(
        five_centres: dict[str, Path], tmp_path: Path) -> None:
    directory = tmp_path / "cohorts"
    sources = workbook_sources(five_centres)
    mapping = proposed(sources)
    first = import_centres(sources, "Five centres", mapping=mapping, directory=directory)
    assert first.ok
    patients, events = _sheets(five_centres["Centre B"])
    dropped = patients["patient_id"].iloc[0]
    patients, events = patients.iloc[1:], events[events["patient_id"] != dropped]
    (tmp_path / "b").mkdir()
    patients.to_csv(tmp_path / "b" / "patients.csv", index=False)
    events.to_csv(tmp_path / "b" / "events.csv", index=False)
    update = CentreFiles("Centre B", CohortFiles.from_csv(InputFile.from_path(tmp_path / "b" / "patients.csv"),
                                                          InputFile.from_path(tmp_path / "b" / "events.csv")))
    second = import_centres([update], "", new_cut_of=first.path, directory=directory)
    assert second.ok, second.report.frame().to_string()
    assert (second.cut, second.label, second.n_patients) == (2, "Five centres", 31)
    assert (second.replaced_centres, second.kept_centres) == (("Centre B",), ("Centre A", "Centre C", "Centre D",
                                                                              "Centre E"))
    a, b = open_cohort(first.path), open_cohort(second.path)
    try:
        pa, pb = fetch_table_rows(a, "patients"), fetch_table_rows(b, "patients")
        ea, eb = fetch_table_rows(a, "events"), fetch_table_rows(b, "events")
        ma, mb = fetch_study_meta(a), fetch_study_meta(b)
    finally:
        a.close()
        b.close()
    assert set(pa["patient_id"]) - set(pb["patient_id"]) == {dropped}
    others = pa[pa["centre"] != "Centre B"]
    pd.testing.assert_frame_equal(others.reset_index(drop=True),
                                  pb[pb["centre"] != "Centre B"].reset_index(drop=True))
    assert len(eb) == len(ea) - int((ea["patient_id"] == dropped).sum())
    assert mb["lineage"] == ma["lineage"] and (ma["cut"], mb["cut"]) == ("1", "2")
    assert mb["previous_cut"] == first.path.name and mb["replaced_centres"] == "Centre B"
    # the picker lists the latest cut; every cut when asked; the earlier one cannot be removed or written
    none = tmp_path / "none.duckdb"
    assert [(c.cut, c.latest) for c in list_cohorts(directory, none)] == [(2, True)]
    assert sorted((c.cut, c.latest) for c in list_cohorts(directory, none, all_cuts=True)) == [(1, False), (2, True)]
    assert "cut 1 (earlier, read-only)" in [c for c in list_cohorts(directory, none, all_cuts=True)
                                             if c.cut == 1][0].describe()
    with pytest.raises(CohortError, match="earlier cut"):
        remove_cohort(first.path, directory, none)
    assert not os.access(first.path, os.W_OK) or os.geteuid() == 0
    refused = import_centres([update], "", new_cut_of=first.path, directory=directory)
    assert not refused.ok and "a new cut builds on the latest" in refused.report.problems()[0].expected


def test_a_new_cut_of_the_default_cohort_is_refused(default_cohort: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INO_COHORT_PATH", str(default_cohort))
    result = import_centres([csv_centre(tmp_path, "Centre X")], "", new_cut_of=default_cohort,
                            directory=tmp_path / "cohorts")
    assert not result.ok and "the default cohort is the reconstruction's" in result.report.problems()[0].expected


# ---------------------------------------------------------------------------------- the command line
CLI = [sys.executable, str(ROOT / "scripts" / "import_cohort.py")]


def cli(*args: str, cohorts: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, INO_COHORTS_DIR=str(cohorts))
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=180, cwd=ROOT,
                          check=False)


def test_cli_proposes_a_mapping_then_imports_centres_with_it_and_makes_a_new_cut(
        five_centres: dict[str, Path], tmp_path: Path) -> None:
    cohorts = tmp_path / "cohorts"
    centres = [arg for name, path in five_centres.items() for arg in ("--centre", f"{name}={path}")]
    proposed_file = tmp_path / "mapping.json"
    run = cli(*centres, "--write-mapping", str(proposed_file), cohorts=cohorts)
    assert run.returncode == 0, run.stderr
    assert "gender → sex · mapped" in run.stdout and "'Male' → 'M' (synonym, 21 rows)" in run.stdout
    mapping = ImportMapping.from_json(proposed_file.read_bytes())
    assert mapping.patients.columns["gender"] == "sex" and mapping.patients.date_formats == {
        "date of first ino": "DD/MM/YYYY"}
    saved = tmp_path / "saved.json"
    saved.write_bytes(with_choices(mapping, "patients", columns={**mapping.patients.columns, "mrn": DROP}).to_json())
    run = cli(*centres, "--mapping", str(saved), "--label", "Five centres", cohorts=cohorts)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("imported Centre A: centre_a.xlsx; Centre B: centre_b.xlsx;")
    [first] = list_cohorts(cohorts, tmp_path / "none.duckdb")
    assert (first.n_patients, first.cut) == (32, 1)
    run = cli("--centre", f"Centre B={five_centres['Centre B']}", "--mapping", str(saved),
              "--new-cut-of", first.path.name, cohorts=cohorts)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "as cut 2 of Five centres" in run.stdout and "(Centre B replaced;" in run.stdout
    assert [(c.cut, c.n_patients) for c in list_cohorts(cohorts, tmp_path / "none.duckdb")] == [(2, 32)]


def test_cli_names_colliding_ids_per_centre_and_writes_nothing(tmp_path: Path) -> None:
    cohorts = tmp_path / "cohorts"
    args = [a for name in ("Centre X", "Centre Y")
            for a in ("--centre", f"{name}={BAD / 'patients.csv'},{BAD / 'events.csv'}")]
    run = cli(*args, "--label", "Two", cohorts=cohorts)
    assert run.returncode == 1 and "NOT IMPORTED" in run.stderr and not cohorts.exists()
    assert "── Centre Y: " in run.stdout
    assert ("ERROR   Centre Y · patients.csv · row 2 · patient_id · P01 · expected a patient_id no other centre "
            "uses: P01 is also a patient of Centre X (Centre X · patients.csv row 2)") in run.stdout
    run = cli(*args, "--label", "Two", "--prefix-ids", "--check", cohorts=cohorts)
    assert "patient_id" not in run.stdout      # prefixed: no collision left (the centre cells still disagree)


def test_cli_refuses_a_broken_mapping_file(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('{"format": "something else"}')
    run = cli("--patients", str(BAD / "patients.csv"), "--events", str(BAD / "events.csv"), "--mapping",
              str(tmp_path / "m.json"), "--check", cohorts=tmp_path / "cohorts")
    assert run.returncode == 2 and "is not a usable mapping: expected a JSON object with" in run.stderr
