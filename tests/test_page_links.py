"""A shared link restores the whole view: the page's own choices and the cohort, not only the filters;
a choice or a cohort the link names but this server does not have gets a notice, never an error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.test_app import assert_healthy, start, texts
from ui.page_state import PAGE_OPTIONS, Choice, Several, parse_page_params


def test_page_choices_parse_from_their_written_form() -> None:
    values, notices = parse_page_params({"s_group": ["hsct"], "s_ci": ["0"], "s_milestones": ["3,12"],
                                         "s_horizon": ["none"], "s_landmark": ["4.5"]})
    assert values == {"s_group": "hsct", "s_ci": False, "s_milestones": [3.0, 12.0], "s_horizon": None,
                      "s_landmark": 4.5}
    assert notices == ()
    for key, option in PAGE_OPTIONS.items():          # every declared choice writes what it reads
        if isinstance(option, (Choice, Several)):
            value = list(option.options[:2]) if isinstance(option, Several) else option.options[-1]
            assert parse_page_params({key: [option.write(value)]})[0][key] == value, key


def test_a_choice_the_page_does_not_have_is_dropped_with_a_notice() -> None:
    values, notices = parse_page_params({"s_group": ["bmi"], "s_landmark": ["-3"], "s_ci": ["yes please"],
                                         "s_milestones": ["6,7"], "s_endpoint": ["x" * 5000]})
    assert values == {}
    by_param = {n.param: n.message for n in notices}
    assert by_param["s_group"].startswith("The link's survival stratification (s_group=bmi) is not one of all,")
    assert by_param["s_group"].endswith("; all used.")
    assert "is outside 0–24" in by_param["s_landmark"]
    assert "is not 1 or 0" in by_param["s_ci"]
    assert "is not one of" in by_param["s_milestones"]
    assert "is too long" in by_param["s_endpoint"]


def test_reopening_a_survival_link_restores_its_choices(default_cohort: Path, cohort_env) -> None:
    query = {"s_endpoint": "rfs", "s_group": "hsct", "s_comparison": "naive", "s_milestones": "3,12",
             "s_horizon": "12"}
    at = start(default_cohort, cohort_env, query, page="survival")
    assert_healthy(at)
    assert at.radio(key="s_endpoint").value == "rfs"
    assert at.selectbox(key="s_group").value == "hsct"
    assert at.radio(key="s_comparison").value == "naive"
    assert at.multiselect(key="s_milestones").value == [3.0, 12.0]
    assert at.selectbox(key="s_horizon").value == 12
    assert any(t.startswith("Immortal-time bias: HSCT") for t in texts(at))
    # the URL the page writes back is the same view
    assert {k: at.query_params.get(k) for k in query} == query
    again = start(default_cohort, cohort_env, dict(at.query_params), page="survival")
    assert texts(again) == texts(at)


def test_default_choices_stay_out_of_the_url(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="survival")
    assert_healthy(at)
    assert not [k for k in at.query_params if k.startswith("s_")]
    at.selectbox(key="s_group").set_value("salvage_line").run()
    assert at.query_params.get("s_group") == "salvage_line"


def test_a_link_names_an_imported_cohort_by_its_id(default_cohort: Path, cohort_env, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cohorts = tmp_path / "cohorts"
    cohorts.mkdir()
    imported = cohorts / "centre-x-2024-1a2b3c4d.duckdb"
    shutil.copy(default_cohort, imported)
    monkeypatch.setenv("INO_COHORTS_DIR", str(cohorts))
    at = start(default_cohort, cohort_env, {"cohort": "centre-x-2024-1a2b3c4d", "salvage": "2"})
    assert_healthy(at)
    assert at.selectbox(key="cohort").value == str(imported)
    assert at.query_params.get("cohort") == "centre-x-2024-1a2b3c4d"
    gone = start(default_cohort, cohort_env, {"cohort": "removed-cohort-99"})
    assert_healthy(gone)
    assert any("The link's cohort (cohort=removed-cohort-99) is not a cohort on this server" in t
               for t in texts(gone))
    assert gone.selectbox(key="cohort").value == str(default_cohort)
    assert "cohort" not in gone.query_params
