"""Round trip: a cohort exported in the import format and imported again gives identical endpoints."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.characteristics import patient_characteristics
from core.cohorts import list_cohorts
from core.database import open_cohort
from core.filters import FilterSpec
from core.importer import CohortFiles, InputFile, export_import_format, fetch_table_rows, import_cohort
from core.queries import fetch_study_meta
from core.response import summarise_response
from core.safety import toxicity_by_hsct
from core.survival import estimate_survival
from tests.cohort_factory import write_tiny_cohort
from tests.conftest import varied_patients


def endpoints(path: Path) -> dict[str, str]:
    """Every endpoint the issue names, on the whole cohort, as exact text (repr keeps every digit)."""
    cohort = open_cohort(path)
    try:
        spec = FilterSpec()
        out = {"response": summarise_response(cohort, spec), "toxicity": toxicity_by_hsct(cohort, spec),
               "characteristics": patient_characteristics(cohort, spec)}
        for endpoint in ("os", "rfs", "dor"):
            out[endpoint] = estimate_survival(cohort, spec, endpoint)
        return {k: repr(v) for k, v in out.items()}
    finally:
        cohort.close()


def round_trip(source: Path, tmp: Path) -> Path:
    cohort = open_cohort(source)
    try:
        patients, events = export_import_format(cohort)
    finally:
        cohort.close()
    patients.to_csv(tmp / "patients.csv", index=False)
    events.to_csv(tmp / "events.csv", index=False)
    files = CohortFiles.from_csv(InputFile.from_path(tmp / "patients.csv"), InputFile.from_path(tmp / "events.csv"))
    result = import_cohort(files, "Round trip", directory=tmp / "cohorts")
    assert result.ok, result.report.frame().to_string()
    assert result.report.n_warnings == 0
    assert result.path is not None
    return result.path


def assert_same_cohort(a: Path, b: Path) -> None:
    ca, cb = open_cohort(a), open_cohort(b)
    try:
        for table in ("patients", "events"):
            pd.testing.assert_frame_equal(fetch_table_rows(ca, table), fetch_table_rows(cb, table))
    finally:
        ca.close()
        cb.close()
    ea, eb = endpoints(a), endpoints(b)
    for name in ea:
        assert ea[name] == eb[name], name


def test_tiny_cohort_round_trip_is_identical(tmp_path: Path) -> None:
    source = write_tiny_cohort(tmp_path / "source.duckdb", varied_patients())
    imported = round_trip(source, tmp_path)
    assert_same_cohort(source, imported)
    cohort = open_cohort(imported)
    try:
        meta = fetch_study_meta(cohort)
    finally:
        cohort.close()
    assert meta["label"] == "Round trip" and meta["reconstructed"] == "false"
    assert meta["source"] == "Imported from patients.csv + events.csv" and meta["imported_at"][:2] == "20"
    listed = list_cohorts(tmp_path / "cohorts", default_path=tmp_path / "none.duckdb")
    assert [(c.label, c.n_patients, c.is_default) for c in listed] == [("Round trip", 10, False)]


def test_default_cohort_round_trip_is_identical(default_cohort: Path, tmp_path: Path) -> None:
    """The reconstructed default cohort (built when data/reconstruction/expand.py exists; else skipped)."""
    before = default_cohort.stat().st_mtime_ns
    imported = round_trip(default_cohort, tmp_path)
    assert_same_cohort(default_cohort, imported)
    assert default_cohort.stat().st_mtime_ns == before         # the default was only read


def test_extra_columns_are_kept(tmp_path: Path) -> None:
    source = write_tiny_cohort(tmp_path / "source.duckdb", varied_patients()[:3])
    cohort = open_cohort(source)
    patients, events = export_import_format(cohort)
    cohort.close()
    patients["MRN note"] = [f"note {i}" for i in range(len(patients))]
    patients.to_csv(tmp_path / "p.csv", index=False)
    events.to_csv(tmp_path / "e.csv", index=False)
    result = import_cohort(CohortFiles.from_csv(InputFile.from_path(tmp_path / "p.csv"),
                                                InputFile.from_path(tmp_path / "e.csv")),
                           "With extras", directory=tmp_path / "cohorts")
    assert result.ok and [(p.row, p.column) for p in result.report.problems()] == [(1, "mrn note")]
    assert result.path is not None
    import duckdb

    con = duckdb.connect(str(result.path), read_only=True)
    try:
        kept = con.table("patients_extra").df()
    finally:
        con.close()
    assert list(kept.columns) == ["source_row", "patient_id", "mrn note"]
    assert kept["mrn note"].tolist() == ["note 0", "note 1", "note 2"] and kept["source_row"].tolist() == [2, 3, 4]


@pytest.mark.parametrize("reps", [1])
def test_export_writes_import_text(tmp_path: Path, reps: int) -> None:
    source = write_tiny_cohort(tmp_path / "s.duckdb", varied_patients()[:reps])
    cohort = open_cohort(source)
    patients, events = export_import_format(cohort)
    cohort.close()
    assert patients.loc[0, "ino_start_date"] == "2020-01-06" and patients.loc[0, "safety_evaluable"] == "true"
    assert set(events["cycle"]) <= {"", "1", "2"}            # whole numbers without ".0"
