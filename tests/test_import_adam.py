"""CDISC ADaM: ADSL, ADTTE, ADRS, ADAE and ADEX (SAS transport or CSV) imported as a cohort."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import core.importer as importer
from core.importer import InputFile
from core.importer.adam import AdamMapping, check_adam_files, import_adam
from core.importer.adam_read import AdamFiles, adam_date, read_dataset
from core.importer.problems import ProblemReport
from tests.cohort_factory import write_tiny_cohort
from tests.conftest import varied_patients
from tests.standards_factory import ADAM_MAPPING, adam_datasets, cohort_text, write_xpt
from tests.test_import_redcap import paper_values
from tests.test_import_roundtrip import endpoints

# B22 checks the CR/CRi criteria against the marrow blasts and blood counts behind each response row;
# ADaM keeps those in ADLB, which this import does not read, so an ADaM cohort cannot show it.
NEEDS_LABORATORY_VALUES = {"B22"}
MAX_BYTES = 10 * 1024 * 1024


def _files(directory: Path) -> AdamFiles:
    return AdamFiles.from_directory(directory, max_bytes=MAX_BYTES)


@pytest.fixture()
def tiny_adam(tmp_path: Path) -> dict[str, pd.DataFrame]:
    patients, events = cohort_text(write_tiny_cohort(tmp_path / "tiny.duckdb", varied_patients()))
    return adam_datasets(patients, events)


def _problems(report: ProblemReport, severity: str = "error") -> list[tuple[str, int | None, str]]:
    return [(p.file, p.row, p.column) for p in report.problems() if p.severity == severity]


def test_default_cohort_as_adam_transport_files_gives_the_same_endpoints(default_cohort: Path,
                                                                          tmp_path: Path) -> None:
    patients, events = cohort_text(default_cohort)
    write_xpt(adam_datasets(patients, events), tmp_path / "adam")
    result = import_adam(_files(tmp_path / "adam"), "From ADaM", mapping=AdamMapping.from_dict(ADAM_MAPPING),
                         directory=tmp_path / "cohorts")
    assert result.ok, result.report.frame().to_string()
    assert result.report.n_warnings == 0 and result.path is not None and result.n_patients == len(patients)
    assert endpoints(result.path) == endpoints(default_cohort)       # CR/CRi, OS, RFS, DOR, VOD, HSCT, Table 1
    imported, default = paper_values(result.path), paper_values(default_cohort)
    assert {k for k in default if imported[k] != default[k]} == NEEDS_LABORATORY_VALUES


def test_csv_datasets_with_sas_dates(tiny_adam: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    directory = tmp_path / "csv"
    directory.mkdir()
    for name, frame in tiny_adam.items():
        frame = frame.copy()
        for column in [c for c in frame.columns if c.endswith("DT")]:
            frame[column] = frame[column].map(lambda d: "" if pd.isna(d) else d.strftime("%d%b%Y").upper())
        frame.to_csv(directory / f"{name.upper()}.csv", index=False)
    (directory / "define.xml").write_text("<xml/>")
    checked = check_adam_files(_files(directory), AdamMapping.from_dict(ADAM_MAPPING))
    assert checked.ok, checked.report.frame().to_string()
    assert checked.patients is not None and len(checked.patients) == 10


def test_an_unknown_parameter_is_an_error_and_nothing_is_written(tiny_adam: dict[str, pd.DataFrame],
                                                                 tmp_path: Path) -> None:
    adtte = tiny_adam["adtte"]
    extra = adtte.iloc[[0]].assign(PARAMCD="PFS")
    tiny_adam["adtte"] = pd.concat([adtte, extra], ignore_index=True)
    write_xpt(tiny_adam, tmp_path / "adam")
    result = import_adam(_files(tmp_path / "adam"), "PFS", mapping=AdamMapping.from_dict(ADAM_MAPPING),
                         directory=tmp_path / "cohorts")
    assert not result.ok and not (tmp_path / "cohorts").exists()
    assert _problems(result.report) == [("adtte.xpt", len(adtte) + 2, "PARAMCD")]
    problem = result.report.problems()[0]
    assert problem.value == "PFS" and '"PFS": "ignore"' in problem.expected
    # said to be ignored, it is
    mapping = AdamMapping.from_dict({**ADAM_MAPPING, "PARAMCD": {"PFS": "ignore"}})
    assert check_adam_files(_files(tmp_path / "adam"), mapping).ok


def test_a_carried_duration_that_differs_from_the_derived_one_is_reported(tiny_adam: dict[str, pd.DataFrame],
                                                                         tmp_path: Path) -> None:
    adtte = tiny_adam["adtte"]
    os_rows = adtte.index[adtte["PARAMCD"] == "OS"]
    adtte.loc[os_rows[0], "AVAL"] += 30                  # a month more than the dates say
    adtte.loc[os_rows[1], "AVAL"] += 1                   # the "+ 1 day" convention: the same
    adtte.loc[os_rows[2], "AVAL"] = adtte.loc[os_rows[2], "AVAL"] / 30.4375
    adtte.loc[os_rows[2], "AVALU"] = "MONTHS"            # months: the same duration
    write_xpt(tiny_adam, tmp_path / "adam")
    checked = check_adam_files(_files(tmp_path / "adam"), AdamMapping.from_dict(ADAM_MAPPING))
    assert checked.ok
    assert _problems(checked.report, "warning") == [("adtte.xpt", int(os_rows[0]) + 2, "AVAL")]
    warning = checked.report.problems()[0]
    assert warning.expected.startswith(f"{int(adtte.loc[os_rows[0], 'AVAL']) - 30} days: the OS derived from the "
                                       "events (first InO dose ")


def test_contract_problems_name_the_dataset_row_and_variable(tiny_adam: dict[str, pd.DataFrame],
                                                            tmp_path: Path) -> None:
    tiny_adam["adae"].loc[2, "AETOXGR"] = "7"
    first_dose = tiny_adam["adex"].index[tiny_adam["adex"]["USUBJID"] == "T03"][0]
    tiny_adam["adex"].loc[first_dose, "ASTDT"] = tiny_adam["adsl"].loc[2, "TRTSDT"] - pd.Timedelta(days=3)
    tiny_adam["adsl"].loc[4, "SALVLINE"] = 0.0
    write_xpt(tiny_adam, tmp_path / "adam")
    report = check_adam_files(_files(tmp_path / "adam"), AdamMapping.from_dict(ADAM_MAPPING)).report
    assert sorted(_problems(report)) == sorted([("adae.xpt", 4, "AETOXGR"), ("adex.xpt", int(first_dose) + 2, "ASTDT"),
                                                ("adsl.xpt", 6, "SALVLINE")])


def test_missing_datasets_and_variables(tiny_adam: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    write_xpt({"adsl": tiny_adam["adsl"].drop(columns=["DCUTDT"])}, tmp_path / "adam")
    report = check_adam_files(_files(tmp_path / "adam"), AdamMapping.from_dict(ADAM_MAPPING)).report
    assert _problems(report) == [("adtte.xpt", None, "")]
    write_xpt({"adtte": tiny_adam["adtte"]}, tmp_path / "adam")
    report = check_adam_files(_files(tmp_path / "adam"), AdamMapping.from_dict(ADAM_MAPPING)).report
    assert _problems(report) == [("adsl.xpt", 1, "DCUTDT")]
    report = check_adam_files(_files(tmp_path / "adam"), AdamMapping()).report   # no mapping: no salvage line
    assert ("adsl.xpt", 1, "salvage_line") in _problems(report)


def test_the_last_observation_is_read_when_it_ends_in_blanks(tmp_path: Path) -> None:
    # pandas' own count drops it: it takes blank text within the last 80 bytes for the file's padding
    frame = pd.DataFrame({"USUBJID": ["P1", "P2", "P3"], "AETOXGR": ["3", "4", "2"],
                          "AEDECOD": ["Aspartate aminotransferase increased", "VOD", "Anaemia"]})
    write_xpt({"adae": frame}, tmp_path)
    assert len(pd.read_sas(tmp_path / "adae.xpt", format="xport")) in (2, 3)
    table = read_dataset(InputFile.from_path(tmp_path / "adae.xpt"), ProblemReport(), importer.read_limits())
    assert table is not None and table.frame["aedecod"].tolist() == frame["AEDECOD"].tolist()


def test_the_mapping_file_is_checked(tmp_path: Path) -> None:
    report = ProblemReport()
    bad = InputFile("mapping.json", json.dumps({"SALVLINE": "salvage", "PARAMCD": {"X": "OS"}}).encode())
    assert AdamMapping.from_json(bad, report) is None
    assert _problems(report) == [("mapping.json", None, "SALVLINE")]
    report = ProblemReport()
    assert AdamMapping.from_json(InputFile("mapping.json", b'{"SALVLINE":\n "salvage_line",}'), report) is None
    assert _problems(report) == [("mapping.json", 2, "")]
    with pytest.raises(ValueError, match="salvage"):
        AdamMapping.from_dict({"SALVLINE": "salvage"})


def test_dates_and_limits(tiny_adam: dict[str, pd.DataFrame], tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert [adam_date(t) for t in ("2017-02-13", "13FEB2017", "20863", "31FEB2017", "soon", None)] == [
        "2017-02-13", "2017-02-13", "2017-02-13", "31FEB2017", "soon", None]
    write_xpt(tiny_adam, tmp_path / "adam")
    monkeypatch.setattr(importer, "MAX_ROWS", 20)
    report = check_adam_files(_files(tmp_path / "adam"), AdamMapping.from_dict(ADAM_MAPPING)).report
    assert not report.ok and any("at most 20 data rows" in p.expected for p in report.problems())


def test_files_that_are_not_transport_version_5(tmp_path: Path) -> None:
    import pyreadstat

    pyreadstat.write_xport(pd.DataFrame({"USUBJID": ["P1"]}), str(tmp_path / "adsl.xpt"), file_format_version=8)
    report = ProblemReport()
    assert read_dataset(InputFile.from_path(tmp_path / "adsl.xpt"), report, importer.read_limits()) is None
    assert [(p.file, p.value) for p in report.problems()] == [("adsl.xpt", "SAS transport version 8")]
    report = ProblemReport()
    assert read_dataset(InputFile("adtte.xpt", b"%PDF-1.4 not a dataset"), report, importer.read_limits()) is None
    assert [(p.file, p.value) for p in report.problems()] == [("adtte.xpt", "not a SAS transport file")]
    pyreadstat.write_xport(pd.DataFrame({"USUBJID": ["P1"]}), str(tmp_path / "adsl.xpt"), file_format_version=5)
    broken = (tmp_path / "adsl.xpt").read_bytes()[:-100]
    report = ProblemReport()
    read_dataset(InputFile("adsl.xpt", broken), report, importer.read_limits())   # never raises
