"""The Import page with several centres in their own words, and the Data cuts page, through AppTest from app.py.

AppTest cannot upload files: the import page reads the paths in `_import_test_files` ({"centres": …}) and
`_import_test_mapping` instead (ui.import_view and ui.mapping_view document the hooks).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.cohorts import list_cohorts
from tests.centre_files import write_centre_workbooks
from tests.test_app import assert_healthy, texts
from ui.import_view import TEST_FILES_KEY
from ui.mapping_view import TEST_MAPPING_KEY

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 90


@pytest.fixture()
def cohorts(default_cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cohorts"
    monkeypatch.setenv("INO_COHORTS_DIR", str(directory))
    monkeypatch.setenv("INO_COHORT_PATH", str(default_cohort))
    return directory


def _import_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/import_cohort.py").run()
    assert_healthy(at)
    return at


def test_five_centres_mapped_imported_then_a_new_cut_and_what_changed(default_cohort: Path, cohorts: Path,
                                                                       tmp_path: Path) -> None:
    paths = write_centre_workbooks(default_cohort, tmp_path / "centres")
    at = _import_page()
    at.session_state[TEST_FILES_KEY] = {"centres": {c: {"workbook": str(p)} for c, p in paths.items()}}
    at.run()
    assert_healthy(at)
    shown = texts(at)
    assert any(t.startswith("Your columns → the template's.") for t in shown)
    assert any(t.startswith("Your values → the contract's.") for t in shown)
    assert at.checkbox(key="import_prefix_ids").value is False
    at.text_input(key="import_label").input("Five <i>centres</i>")
    at.button(key="import_submit").click().run()
    assert_healthy(at)
    assert "Imported **Five \\<i\\>centres\\</i\\>**: 32 patients" in at.success[0].value
    [first] = list_cohorts(cohorts, default_cohort.parent / "none.duckdb")
    assert (first.n_patients, first.cut) == (32, 1)

    # the next cut: Centre B's file again, with the mapping saved from the first
    saved = tmp_path / "mapping.json"
    from core.importer import CentreFiles, CohortFiles, InputFile, propose_mapping, read_for_mapping

    source = [CentreFiles("Centre B", CohortFiles.from_workbook(InputFile.from_path(paths["Centre B"])))]
    saved.write_bytes(propose_mapping(read_for_mapping(source)).mapping.to_json())
    at.session_state[TEST_FILES_KEY] = {"centres": {"Centre B": {"workbook": str(paths["Centre B"])}}}
    at.session_state[TEST_MAPPING_KEY] = str(saved)
    at.run()
    at.selectbox(key="import_target").set_value(str(first.path)).run()
    at.text_input(key="import_label").input("").run()
    at.button(key="import_submit").click().run()
    assert_healthy(at)
    assert at.success[0].value.startswith("Imported cut 2 of **Five \\<i\\>centres\\</i\\>**: 32 patients")
    assert "replaced Centre B, kept Centre A, Centre C, Centre D, Centre E" in at.success[0].value

    at.switch_page("pages/data_cuts.py").run()
    assert_healthy(at)
    assert at.title[0].value == "Data cuts"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["New patients"] == "0" and metrics["Changed events"] == "0"
    figures = at.dataframe[0].value
    assert figures["figure"].tolist()[:2] == ["Patients", "CR/CRi"] and set(figures["change"]) == {"no change"}
    assert "Nothing changed from cut 1 to cut 2." in texts(at)
    # the picker can show the earlier cut
    at.toggle(key="cohort_all_cuts").set_value(True).run()
    options = at.selectbox(key="cohort").options
    assert sum("(earlier, read-only)" in o for o in options) == 1


def test_data_cuts_page_without_cuts_says_how_to_make_one(cohorts: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/data_cuts.py").run()
    assert_healthy(at)
    assert any(t.startswith("No imported cohort has a second cut yet.") for t in texts(at))
