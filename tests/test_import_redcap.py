"""REDCap: the contract as a data dictionary REDCap accepts, and a project's records export imported back."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

import core.importer as importer
from core.database import open_cohort
from core.importer import InputFile, fetch_table_rows
from core.importer.redcap import check_redcap_files, import_redcap
from core.importer.redcap_dictionary import redcap_dictionary_csv, redcap_dictionary_frame
from core.paper import METADATA, check_paper
from tests.cohort_factory import write_tiny_cohort
from tests.conftest import varied_patients
from tests.standards_factory import cohort_text, redcap_records
from tests.test_import_roundtrip import endpoints

# REDCap's data dictionary, as its Data Dictionary page documents it: the columns in this order ...
REDCAP_COLUMNS = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]
# ... its field types, and the text validations this dictionary may use
REDCAP_FIELD_TYPES = {"text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse", "file", "calc",
                      "sql", "descriptive", "slider"}
USED_VALIDATIONS = {"", "date_ymd", "number", "integer"}
VARIABLE = re.compile(r"^[a-z][a-z0-9_]*$")
CHOICES = re.compile(r"^[0-9A-Za-z_]+, [^|]+( \| [0-9A-Za-z_]+, [^|]+)*$")


def dictionary_rows() -> list[dict[str, str]]:
    text = redcap_dictionary_csv().decode("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == REDCAP_COLUMNS
    return list(reader)


def test_the_dictionary_follows_redcaps_format_rules() -> None:
    rows = dictionary_rows()
    names = [r["Variable / Field Name"] for r in rows]
    assert names[0] == "patient_id" and rows[0]["Form Name"] == "patients"         # the record id first
    assert len(names) == len(set(names))                                            # unique
    for r in rows:
        name = r["Variable / Field Name"]
        assert VARIABLE.match(name) and len(name) <= 26, name
        assert not name.startswith("redcap_") and not name.endswith(("_complete", "_timestamp")), name
        assert VARIABLE.match(r["Form Name"]) and r["Field Label"], name
        assert r["Field Type"] in REDCAP_FIELD_TYPES, name
        assert r["Text Validation Type OR Show Slider Number"] in USED_VALIDATIONS, name
        assert r["Required Field?"] in ("", "y") and r["Identifier?"] == ""
        choices = r["Choices, Calculations, OR Slider Labels"]
        if r["Field Type"] in ("radio", "dropdown", "checkbox"):
            assert CHOICES.match(choices), (name, choices)
            codes = [c.split(",")[0].strip() for c in choices.split("|")]
            assert len(codes) == len(set(codes)), name
        else:
            assert choices == "", name                     # yesno and text fields carry no choices
        for bound in ("Text Validation Min", "Text Validation Max"):
            if r[bound]:
                assert r["Text Validation Type OR Show Slider Number"] in ("number", "integer")
                float(r[bound])
        for referenced in re.findall(r"\[([^\]]+)\]", r["Branching Logic (Show field only if...)"]):
            assert referenced in names[: names.index(name)], (name, referenced)   # an earlier field
    forms = [r["Form Name"] for r in rows]
    assert forms == sorted(forms, key=["patients", "events"].index)   # each form's fields together
    by_name = {r["Variable / Field Name"]: r for r in rows}
    assert by_name["event_date"]["Text Validation Type OR Show Slider Number"] == "date_ymd"
    assert by_name["age_years"]["Text Validation Min"] == "18" and by_name["emd_baseline"]["Field Type"] == "yesno"
    assert by_name["ae_grade"]["Text Validation Type OR Show Slider Number"] == "integer"
    assert by_name["sex"]["Choices, Calculations, OR Slider Labels"] == "1, F | 2, M"
    assert by_name["relapse_site"]["Field Type"] == "checkbox"
    assert by_name["dose_mg_m2"]["Branching Logic (Show field only if...)"] == "[event_type] = '1'"


def _write(tmp: Path, records: pd.DataFrame, dictionary: bytes | None = None) -> tuple[InputFile, InputFile]:
    records.to_csv(tmp / "records.csv", index=False)
    (tmp / "dictionary.csv").write_bytes(dictionary if dictionary is not None else redcap_dictionary_csv())
    return InputFile.from_path(tmp / "records.csv"), InputFile.from_path(tmp / "dictionary.csv")


def _by_patient(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("patient_id", kind="stable").reset_index(drop=True)


def assert_same_tables(a: Path, b: Path) -> None:
    ca, cb = open_cohort(a), open_cohort(b)
    try:
        for table in ("patients", "events"):
            pd.testing.assert_frame_equal(_by_patient(fetch_table_rows(ca, table)),
                                          _by_patient(fetch_table_rows(cb, table)))
    finally:
        ca.close()
        cb.close()


def paper_values(path: Path) -> dict[str, str]:
    """Every figure the paper check computes from the rows (not the study metadata, e.g. cases screened)."""
    cohort = open_cohort(path)
    try:
        return {f.target_id: f.computed for f in check_paper(cohort).figures if f.status != METADATA}
    finally:
        cohort.close()


def test_default_cohort_through_a_redcap_export_gives_the_same_endpoints(default_cohort: Path,
                                                                          tmp_path: Path) -> None:
    patients, events = cohort_text(default_cohort)
    records, dictionary = _write(tmp_path, redcap_records(patients, events))
    result = import_redcap(records, dictionary, "From REDCap", directory=tmp_path / "cohorts")
    assert result.ok, result.report.frame().to_string()
    assert result.report.n_warnings == 0 and result.path is not None
    assert (result.n_patients, result.n_events) == (len(patients), len(events))
    assert_same_tables(default_cohort, result.path)
    assert endpoints(result.path) == endpoints(default_cohort)
    assert paper_values(result.path) == paper_values(default_cohort)


def test_labels_and_access_groups(tmp_path: Path) -> None:
    source = write_tiny_cohort(tmp_path / "tiny.duckdb", varied_patients())
    patients, events = cohort_text(source)
    events.loc[events["ae_term"] == "VOD", "ae_term"] = "hepatic VOD, confirmed"   # an "other" term
    events.loc[events["event_type"] == "relapse", "relapse_site"] = "marrow+CNS"
    exported = redcap_records(patients, events, labels=True, access_groups=True)
    exported["centre"] = ""                     # the centre comes from the data access group
    assert "Checked" in set(exported["relapse_site___2"]) and "Yes" in set(exported["safety_evaluable"])
    records, dictionary = _write(tmp_path, exported)
    checked = check_redcap_files(records, dictionary)
    assert checked.ok, checked.report.frame().to_string()
    assert checked.patients is not None and checked.events is not None
    assert checked.patients["centre"].tolist() == patients["centre"].tolist()
    assert "hepatic VOD, confirmed" in set(checked.events["ae_term"])
    assert set(checked.events.loc[checked.events["event_type"] == "relapse", "relapse_site"]) == {"marrow+CNS"}


def test_a_field_the_dictionary_does_not_define_is_an_error(tmp_path: Path) -> None:
    patients, events = cohort_text(write_tiny_cohort(tmp_path / "tiny.duckdb", varied_patients()[:2]))
    exported = redcap_records(patients, events)
    exported.insert(5, "mrn", "123")
    records, dictionary = _write(tmp_path, exported)
    result = import_redcap(records, dictionary, "Mismatch", directory=tmp_path / "cohorts")
    assert not result.ok and not (tmp_path / "cohorts").exists()          # nothing written
    problems = [(p.severity, p.file, p.row, p.column) for p in result.report.problems()]
    assert ("error", "records.csv", 1, "mrn") in problems


def test_problems_name_the_records_row_and_the_redcap_field(tmp_path: Path) -> None:
    patients, events = cohort_text(write_tiny_cohort(tmp_path / "tiny.duckdb", varied_patients()[:2]))
    exported = redcap_records(patients, events)
    main_rows = exported.index[exported["redcap_repeat_instrument"] == ""]
    exported.loc[main_rows[1], "sex"] = "7"                              # not a code of sex
    exported.loc[main_rows[0], "age_years"] = "12"                       # below the contract's 18
    vod = exported.index[exported["event_type"] == "6"][0]
    exported.loc[vod, "ae_term"] = "99"                                  # "other", without the term
    records, dictionary = _write(tmp_path, exported)
    report = check_redcap_files(records, dictionary).report
    problems = {(p.file, p.row, p.column) for p in report.problems() if p.severity == "error"}
    assert ("records.csv", int(main_rows[1]) + 2, "sex") in problems
    assert ("records.csv", int(vod) + 2, "ae_term_other") in problems
    # decoding stops before the contract's checks when a value cannot be decoded; fixed, they run
    exported.loc[main_rows[1], "sex"] = "1"
    exported.loc[vod, "ae_term"] = "1"
    records, dictionary = _write(tmp_path, exported)
    report = check_redcap_files(records, dictionary).report
    assert [(p.file, p.row, p.column, p.value) for p in report.problems() if p.severity == "error"] == [
        ("records.csv (patient rows)", int(main_rows[0]) + 2, "age_years", "12")]


def test_a_record_id_of_another_name(tmp_path: Path) -> None:
    patients, events = cohort_text(write_tiny_cohort(tmp_path / "tiny.duckdb", varied_patients()[:3]))
    exported = redcap_records(patients, events).rename(columns={"patient_id": "record_id"})
    dictionary = redcap_dictionary_frame()
    dictionary.loc[0, "Variable / Field Name"] = "record_id"
    buffer = io.StringIO()
    dictionary.to_csv(buffer, index=False)
    records, dictionary_file = _write(tmp_path, exported, buffer.getvalue().encode())
    checked = check_redcap_files(records, dictionary_file)
    assert checked.ok, checked.report.frame().to_string()
    assert checked.patients is not None and checked.patients["patient_id"].tolist() == patients["patient_id"].tolist()
    main = exported.index[exported["redcap_repeat_instrument"] == ""]
    doubled = pd.concat([exported, exported.loc[[main[0]]]], ignore_index=True)
    records, dictionary_file = _write(tmp_path, doubled, buffer.getvalue().encode())
    problems = check_redcap_files(records, dictionary_file).report.problems()
    assert ("records.csv (patient rows)", len(doubled) + 1, "record_id") in {(p.file, p.row, p.column)
                                                                            for p in problems}


def test_a_broken_dictionary_is_reported_by_row(tmp_path: Path) -> None:
    patients, events = cohort_text(write_tiny_cohort(tmp_path / "tiny.duckdb", varied_patients()[:1]))
    dictionary = redcap_dictionary_frame()
    sex = dictionary.index[dictionary["Variable / Field Name"] == "sex"][0]
    dictionary.loc[sex, "Choices, Calculations, OR Slider Labels"] = "F; M"
    dictionary.loc[sex + 1, "Field Type"] = "number"
    buffer = io.StringIO()
    dictionary.to_csv(buffer, index=False)
    records, dictionary_file = _write(tmp_path, redcap_records(patients, events), buffer.getvalue().encode())
    problems = [(p.file, p.row, p.column) for p in check_redcap_files(records, dictionary_file).report.problems()]
    assert problems == [("dictionary.csv", sex + 2, "Choices, Calculations, OR Slider Labels"),
                        ("dictionary.csv", sex + 3, "Field Type")]


def test_the_row_limit_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    patients, events = cohort_text(write_tiny_cohort(tmp_path / "tiny.duckdb", varied_patients()[:3]))
    records, dictionary = _write(tmp_path, redcap_records(patients, events))
    monkeypatch.setattr(importer, "MAX_ROWS", 10)
    report = check_redcap_files(records, dictionary).report
    assert not report.ok and any("at most 10 data rows" in p.expected for p in report.problems())
