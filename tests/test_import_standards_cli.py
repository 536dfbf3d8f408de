"""The command line's REDCap and ADaM paths: the dictionary, imports, checks and usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.cohorts import list_cohorts
from core.importer.redcap_dictionary import redcap_dictionary_csv
from tests.cohort_factory import write_tiny_cohort
from tests.conftest import varied_patients
from tests.standards_factory import ADAM_MAPPING, adam_datasets, cohort_text, redcap_records, write_xpt
from tests.test_import_cohorts import _cli_main


@pytest.fixture()
def text_tables(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return cohort_text(write_tiny_cohort(tmp_path / "tiny.duckdb", varied_patients()))


def test_write_the_redcap_dictionary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli_main()(["--write-redcap-dictionary", str(tmp_path / "dictionary.csv")]) == 0
    assert (tmp_path / "dictionary.csv").read_bytes() == redcap_dictionary_csv()
    assert f"wrote {tmp_path / 'dictionary.csv'}" in capsys.readouterr().out


def test_redcap_import_and_a_mismatched_export(text_tables: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    main = _cli_main()
    records = redcap_records(*text_tables)
    records.to_csv(tmp_path / "records.csv", index=False)
    main(["--write-redcap-dictionary", str(tmp_path / "dictionary.csv")])
    files = ["--redcap-records", str(tmp_path / "records.csv"), "--redcap-dictionary", str(tmp_path / "dictionary.csv")]
    cohorts = tmp_path / "cohorts"
    assert main([*files, "--check"]) == 0
    assert "valid: 0 errors, 0 warnings in records.csv + dictionary.csv" in capsys.readouterr().out
    assert main([*files, "--label", "Centre R", "--cohorts-dir", str(cohorts)]) == 0
    assert "imported records.csv + dictionary.csv as " in capsys.readouterr().out
    listed = list_cohorts(cohorts, tmp_path / "none.duckdb")
    assert [(c.label, c.n_patients, c.source) for c in listed] == [
        ("Centre R", 10, "Imported from records.csv + dictionary.csv (REDCap)")]
    records.insert(3, "mrn", "1")
    records.to_csv(tmp_path / "records.csv", index=False)
    assert main([*files, "--label", "Broken", "--cohorts-dir", str(cohorts),
                 "--problems-csv", str(tmp_path / "problems.csv")]) == 1
    out = capsys.readouterr()
    assert "ERROR   records.csv · row 1 · mrn · mrn · expected a field of the data dictionary" in out.out
    assert "NOT IMPORTED" in out.err and len(list_cohorts(cohorts, tmp_path / "none.duckdb")) == 1
    assert pd.read_csv(tmp_path / "problems.csv", encoding="utf-8-sig")["column"].tolist() == ["mrn"]


def test_adam_import_with_a_mapping_file(text_tables: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    main = _cli_main()
    datasets = adam_datasets(*text_tables)
    write_xpt(datasets, tmp_path / "adam")
    (tmp_path / "mapping.json").write_text(json.dumps(ADAM_MAPPING))
    files = ["--adam", str(tmp_path / "adam"), "--adam-mapping", str(tmp_path / "mapping.json")]
    cohorts = tmp_path / "cohorts"
    assert main([*files, "--label", "Study A", "--cohorts-dir", str(cohorts)]) == 0
    assert "imported adae.xpt + adex.xpt + adrs.xpt + adsl.xpt + adtte.xpt as " in capsys.readouterr().out
    datasets["adtte"].loc[0, "PARAMCD"] = "TTF"
    write_xpt(datasets, tmp_path / "adam")
    assert main([*files, "--check"]) == 1
    assert "ERROR   adtte.xpt · row 2 · PARAMCD · TTF · expected one of OS, RFS, DOR" in capsys.readouterr().out
    (tmp_path / "mapping.json").write_text('{"SALVLINE": "line"}')
    assert main([*files, "--check"]) == 1
    assert "ERROR   mapping.json · row - · SALVLINE · line · expected a contract column" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["--redcap-records", "r.csv", "--label", "x"],
    ["--redcap-records", "r.csv", "--redcap-dictionary", "d.csv", "--adam", "."],
    ["--adam", ".", "--patients", "p.csv", "--label", "x"],
    ["--adam-mapping", "m.json", "--label", "x"],
    ["--adam", "no-such-folder", "--label", "x"],
    ["--adam", "."],
])
def test_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        _cli_main()(argv)
    assert stop.value.code == 2
