"""The Import and Data dictionary pages through AppTest.

AppTest cannot upload files, so the page reads paths from `st.session_state["_import_test_files"]`
when that key is set (ui.import_view documents the hook); everything after the upload — validation,
the problem table, the store, the cohort list — runs exactly as for a browser upload.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.cohorts import list_cohorts
from ui.import_view import TEST_FILES_KEY

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "bad_files"


@pytest.fixture()
def cohorts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cohorts"
    monkeypatch.setenv("INO_COHORTS_DIR", str(directory))
    monkeypatch.setenv("INO_COHORT_PATH", str(tmp_path / "no-default.duckdb"))
    return directory


def _page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "import_cohort.py"), default_timeout=60)
    return at.run()


def test_valid_files_become_a_listed_cohort(cohorts: Path) -> None:
    at = _page()
    assert not at.exception and at.title[0].value == "Import a cohort"
    at.session_state[TEST_FILES_KEY] = {"patients": str(BAD / "patients.csv"), "events": str(BAD / "events.csv")}
    at.text_input(key="import_label").input("Centre <b>X</b> 2024")
    at.button(key="import_submit").click().run()
    assert not at.exception
    assert "Imported **Centre \\<b\\>X\\</b\\> 2024**: 2 patients, 12 events" in at.success[0].value
    listed = list_cohorts(cohorts)
    assert [(c.label, c.n_patients) for c in listed] == [("Centre <b>X</b> 2024", 2)]
    table = at.dataframe[-1].value
    assert table["label"].tolist() == ["Centre <b>X</b> 2024"]       # shown as text, verbatim
    # and it can be removed again
    at.checkbox(key="remove_confirm").check().run()
    at.button(key="remove_submit").click().run()
    assert not at.exception and list_cohorts(cohorts) == []


def test_invalid_files_show_the_problem_table(cohorts: Path, tmp_path: Path) -> None:
    events = (BAD / "events.csv").read_text().replace("thrombocytopenia,3", "thrombocytopenia,7")
    (tmp_path / "events.csv").write_text(events)
    at = _page()
    at.session_state[TEST_FILES_KEY] = {"patients": str(BAD / "patients.csv"), "events": str(tmp_path / "events.csv")}
    at.text_input(key="import_label").input("Broken")
    at.button(key="import_submit").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("Not imported — 1 error, 0 warnings.")
    problems = at.dataframe[0].value
    assert problems[["file", "row", "column", "value"]].values.tolist() == [["events.csv", 7, "ae_grade", "7"]]
    assert problems["expected"].iloc[0] == "a value from 1 to 5 (whole number)"
    assert not cohorts.exists() or list(cohorts.iterdir()) == []


def test_import_without_files_or_label(cohorts: Path) -> None:
    at = _page()
    at.button(key="import_submit").click().run()
    assert not at.exception and "Upload the files first" in at.warning[0].value
    at.session_state[TEST_FILES_KEY] = {"workbook": str(ROOT / "data/templates/cohort_template.xlsx")}
    at.button(key="import_submit").click().run()
    problems = at.dataframe[0].value
    assert problems[["file", "column"]].values.tolist() == [["(cohort label)", "label"]]


def test_data_dictionary_page_lists_every_column() -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "data_dictionary.py"), default_timeout=60).run()
    assert not at.exception
    patients, events, endpoints = (d.value for d in at.dataframe)
    assert patients["column"].tolist()[:3] == ["patient_id", "centre", "sex"] and len(patients) == 14
    assert len(events) == 18 and "CR, CRi, NR" in events.set_index("column").loc["response", "allowed values / range"]
    assert "Overall survival" in endpoints["endpoint"].tolist()   # the registry's entries (core.endpoints)


_AUTH_SCRIPT = ("from ui.access import auth_configured, require_login_for_changes\n"
                "import streamlit as st\nst.text(f'{auth_configured()} {require_login_for_changes()}')")


def test_auth_is_off_without_secrets() -> None:
    at = AppTest.from_string(_AUTH_SCRIPT).run()
    assert not at.exception and at.text[0].value == "False True"   # open: changes allowed, no login


def test_auth_configured_asks_for_login_before_changes() -> None:
    at = AppTest.from_string(_AUTH_SCRIPT)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
                          "client_id": "id", "client_secret": "secret",
                          "server_metadata_url": "https://login.example.org/.well-known/openid-configuration"}
    at.run()
    assert not at.exception and at.text[0].value == "True False"
    assert [b.label for b in at.button] == ["Log in"]


def test_cohort_picker_lists_default_then_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.cohort_factory import TinyPatient, write_tiny_cohort

    default = write_tiny_cohort(tmp_path / "default.duckdb", [TinyPatient("D1")], label="Reconstructed")
    directory = tmp_path / "cohorts"
    imported = write_tiny_cohort(directory / "centre-x-0000abcd.duckdb", [TinyPatient("C1"), TinyPatient("C2")],
                                 label="Centre *X*")
    monkeypatch.setenv("INO_COHORT_PATH", str(default))
    monkeypatch.setenv("INO_COHORTS_DIR", str(directory))
    at = AppTest.from_string("import streamlit as st\nfrom ui.cohort_picker import cohort_picker\n"
                             "st.text(str(cohort_picker()))", default_timeout=60).run()
    assert not at.exception
    picker = at.sidebar.selectbox(key="cohort")
    assert picker.options == ["Reconstructed · n = 1 · default", "Centre *X* · n = 2 · import date unknown"]
    assert at.text[0].value == str(default)
    picker.set_value(str(imported)).run()
    assert at.text[0].value == str(imported)
    imported.unlink()                                    # removed elsewhere: the picker falls back
    at.run()
    assert at.text[0].value == str(default)
