"""The page "Import from REDCap or CDISC ADaM" through AppTest (files through the test hook, see ui.standards_view)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.cohorts import list_cohorts
from core.importer.redcap_dictionary import redcap_dictionary_csv
from tests.cohort_factory import write_tiny_cohort
from tests.conftest import varied_patients
from tests.standards_factory import ADAM_MAPPING, adam_datasets, cohort_text, redcap_records, write_xpt
from ui.standards_view import TEST_FILES_KEY

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def cohorts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cohorts"
    monkeypatch.setenv("INO_COHORTS_DIR", str(directory))
    default = write_tiny_cohort(tmp_path / "default.duckdb", varied_patients()[:2])
    monkeypatch.setenv("INO_COHORT_PATH", str(default))
    return directory


# The page alone, behind a one-page navigation. (Reached through app.py after the overview has run, a
# button click on a page switched to does not arrive in AppTest; see test_the_page_is_in_the_app.)
HARNESS = f"""
import streamlit as st
from ui import frame
frame.set_current_view(object())   # the page only checks that it was routed
st.navigation([st.Page({str(ROOT / "pages" / "import_standards.py")!r})]).run()
"""


def _page() -> AppTest:
    return AppTest.from_string(HARNESS, default_timeout=60).run()


def test_the_page_is_in_the_app(cohorts: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/import_standards.py").run()
    assert not at.exception and at.title[0].value == "Import from REDCap or CDISC ADaM"
    assert [b.label for b in at.get("download_button")] == ["REDCap data dictionary (CSV)"]


def test_redcap_files_become_a_listed_cohort(cohorts: Path, tmp_path: Path) -> None:
    patients, events = cohort_text(write_tiny_cohort(tmp_path / "tiny.duckdb", varied_patients()))
    redcap_records(patients, events).to_csv(tmp_path / "records.csv", index=False)
    (tmp_path / "dictionary.csv").write_bytes(redcap_dictionary_csv())
    at = _page()
    assert not at.exception and at.title[0].value == "Import from REDCap or CDISC ADaM"
    at.session_state[TEST_FILES_KEY] = {"redcap_records": str(tmp_path / "records.csv"),
                                        "redcap_dictionary": str(tmp_path / "dictionary.csv")}
    at.text_input(key="is_label").input("Centre <b>R</b>")
    at.button(key="is_submit").click().run()
    assert not at.exception
    assert "Imported **Centre \\<b\\>R\\</b\\>**: 10 patients" in at.success[0].value
    assert [(c.label, c.n_patients) for c in list_cohorts(cohorts) if not c.is_default] == [("Centre <b>R</b>", 10)]


def test_adam_datasets_with_a_mapping(cohorts: Path, tmp_path: Path) -> None:
    patients, events = cohort_text(write_tiny_cohort(tmp_path / "tiny.duckdb", varied_patients()))
    paths = write_xpt(adam_datasets(patients, events), tmp_path / "adam")
    at = _page()
    at.radio(key="is_source").set_value("CDISC ADaM datasets").run()
    at.session_state[TEST_FILES_KEY] = {"adam": [str(p) for p in paths]}
    at.text_input(key="is_label").input("Study A")
    at.text_area(key="is_adam_mapping").input('{"SALVLINE": "line"}')
    at.button(key="is_submit").click().run()
    assert not at.exception and "Not imported" in at.error[0].value
    problems = at.dataframe[0].value
    assert problems[["file", "column", "value"]].values.tolist() == [["column mapping", "SALVLINE", "line"]]
    assert [c for c in list_cohorts(cohorts) if not c.is_default] == []
    at.text_area(key="is_adam_mapping").input(json.dumps(ADAM_MAPPING))
    at.button(key="is_submit").click().run()
    assert not at.exception and "Imported **Study A**: 10 patients" in at.success[0].value
    assert [c.label for c in list_cohorts(cohorts) if not c.is_default] == ["Study A"]
