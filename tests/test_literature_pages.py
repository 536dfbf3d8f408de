"""The Literature and Cut-points pages and the Response page's published overlay, through AppTest.

On the default cohort the cut-point page at 50% must show the Response page's own figures for
blasts < 50% and ≥ 50%, the INO-VATE slice must say what it cannot match, and the forest chart
must carry published rows exactly when the overlay is on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.cutpoints import CUTPOINT_WARNING
from core.literature import PUBLISHED_LABEL, published_cr_cri
from core.text import plotly_text
from tests.test_app import assert_healthy, header, plain, start, texts

NEW_PAGES = ("literature", "cutpoints")


def forest_roles(at: AppTest) -> list[str]:
    """The roles of the traces of the Response page's forest chart (its first chart)."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [(t.get("meta") or {}).get("role") for t in spec["data"]]


def forest_published_labels(at: AppTest) -> list[str]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [label for t in spec["data"] if (t.get("meta") or {}).get("role") == "published" for label in t["text"]]


def table_rows(at: AppTest, first_column: str, column: str = "n/N") -> dict[str, dict[str, str]]:
    """The rows, by their label, of every st.table whose first column (its index) is `first_column` and
    which has `column`."""
    out: dict[str, dict[str, str]] = {}
    for table in at.table:
        frame: pd.DataFrame = table.value
        if frame.index.name == first_column and column in frame.columns:
            out.update({plain(str(i)): {plain(str(k)): plain(str(v)) for k, v in row.items()}
                        for i, row in frame.iterrows()})
    return out


# ------------------------------------------------------------------------------------------ both pages
@pytest.mark.parametrize("page", NEW_PAGES)
def test_the_new_pages_render_on_the_full_cohort(default_cohort: Path, cohort_env, page: str) -> None:
    at = start(default_cohort, cohort_env, page=page)
    assert_healthy(at)
    assert header(at) == "All patients · n = 32"


@pytest.mark.parametrize("page", NEW_PAGES)
def test_the_new_pages_render_in_presenter_mode_and_on_small_cohorts(default_cohort: Path, tiny_cohort: Path,
                                                                      cohort_env, page: str) -> None:
    assert_healthy(start(default_cohort, cohort_env, {"presenter": "1"}, page=page))
    assert_healthy(start(tiny_cohort, cohort_env, page=page))
    assert_healthy(start(tiny_cohort, cohort_env, {"centre": "Centre B", "sex": "F"}, page=page))
    empty = start(tiny_cohort, cohort_env, {"centre": "Centre B", "sex": "M", "salvage": "1"}, page=page)
    assert_healthy(empty)


# ------------------------------------------------------------------------------------------ literature
def test_every_published_table_carries_the_label(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="literature")
    shown = texts(at)
    labelled = [t for t in shown if t.startswith(PUBLISHED_LABEL)]
    assert len(labelled) >= 5 + 6        # reference, Table 9 ×3, discrepancies, one per comparable slice
    assert any("12 figures the paper quotes are not what their sources say" in t for t in shown)
    assert any("5 cells print a figure their sources do not support" in t for t in shown)


def test_the_inovate_slice_states_what_it_could_not_match(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="literature")
    shown = texts(at)
    assert any("INO-VATE" in t and "Comparable slice of this cohort: Salvage 1–2 · n = 28" in t for t in shown)
    cannot = [t for t in shown if t.startswith(":material/close:")]
    for words, why in (("CD22-positive disease (at least 20% of blasts)", "the sidebar has no CD22 filter"),
                       ("failure of at least one second- or third-generation TKI", "not whether they failed"),
                       ("ECOG performance status 0–2", "not in the data contract")):
        assert any(words in t and why in t for t in cannot), words
    assert any("CD22 is recorded for 28 of 28 patients in the slice" in t for t in cannot)


def test_applying_a_slice_sets_the_sidebar(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="literature")
    at.button(key="l_apply_inovate").click().run()
    assert_healthy(at)
    assert at.multiselect(key="f_salvage").value == [1, 2]
    assert header(at) == "Salvage 1–2 · n = 28 of 32"
    assert at.button(key="l_apply_inovate").disabled
    assert any(t.startswith("Applied the comparable slice of INO-VATE") for t in texts(at))
    assert at.query_params.get("salvage") == "1,2"
    at.switch_page("pages/response.py").run()
    assert header(at) == "Salvage 1–2 · n = 28 of 32"


def test_the_reference_table_filters_by_study(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="literature")
    at.multiselect(key="l_ref_studies").set_value(["torrent2023"]).run()
    assert_healthy(at)
    reference = [t.value for t in at.table if "Row" in t.value.columns]
    assert len(reference) == 1
    assert set(reference[0].index) == {"Torrent et al., 2023"}
    assert list(reference[0]["Row"]) == ["t2023-cr-cri", "t2023-dor", "t2023-pfs", "t2023-os",
                                         "t2023-sos-post-hsct"]


# ------------------------------------------------------------------------------------------ response overlay
def test_published_rows_appear_in_the_forest_only_when_the_overlay_is_on(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="response")
    assert at.radio(key="l_overlay").value == "off"
    assert "published" not in forest_roles(at)
    at.radio(key="l_overlay").set_value("all").run()
    assert_healthy(at)
    assert forest_published_labels(at) == [plotly_text(r.label) for r in published_cr_cri().rows]
    assert any(t.startswith(PUBLISHED_LABEL) and "Not drawn: Torrent 2023" in t for t in texts(at))
    at.radio(key="l_overlay").set_value("chosen").run()
    at.multiselect(key="l_studies").set_value(["inovate2016"]).run()
    assert forest_published_labels(at) == ["Kantarjian 2016 · InO"]
    at.radio(key="l_overlay").set_value("off").run()
    assert "published" not in forest_roles(at)
    assert header(at) == "All patients · n = 32"                        # an overlay is not a filter


# ------------------------------------------------------------------------------------------ cut-points
def test_the_cutpoint_page_at_50_percent_shows_the_response_pages_figures(default_cohort: Path, cohort_env) -> None:
    response = start(default_cohort, cohort_env, page="response")
    on_response = table_rows(response, "Bone-marrow blast burden")
    cutpoints = start(default_cohort, cohort_env, page="cutpoints")
    assert cutpoints.selectbox(key="c_threshold_blast_pct").value == 50.0
    on_cutpoints = table_rows(cutpoints, "Bone-marrow blasts")
    for label in ("Blasts < 50%", "Blasts ≥ 50%"):
        assert on_cutpoints[label] == on_response[label], label
    assert on_cutpoints["Blasts < 50%"] == {"n/N": "10/16", "%": "62.5%", "95% CI (exact)": "35.4–84.8"}


def test_the_best_split_comes_with_its_corrected_p_and_the_warning(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="cutpoints")
    at.radio(key="c_outcome").set_value("os").run()
    assert not [w for w in at.warning if "overstated" in w.value]
    at.button(key="c_best").click().run()
    assert_healthy(at)
    warnings = [plain(w.value) for w in at.warning]
    assert CUTPOINT_WARNING in warnings
    shown = texts(at)
    assert any(t.startswith("Best split of bone-marrow blasts for overall survival: Blasts < 64% vs Blasts ≥ 64%")
               and "corrected for 26 thresholds tried" in t for t in shown)
    assert any(t.startswith("Method: maximally selected rank statistic") for t in shown)
    at.button(key="c_use_threshold").click().run()
    assert_healthy(at)
    assert at.number_input(key="f_blast_threshold").value == 64.0
    assert at.button(key="c_use_threshold").disabled
    assert any("blast threshold is now 64%" in t for t in texts(at))
    at.radio(key="f_blast").set_value("high").run()
    assert header(at) == "blasts ≥ 64% · n = 13 of 32"


def test_the_best_split_is_forgotten_when_the_slice_changes(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="cutpoints")
    at.button(key="c_best").click().run()
    assert CUTPOINT_WARNING in [plain(w.value) for w in at.warning]
    at.multiselect(key="f_salvage").set_value([2]).run()
    assert_healthy(at)
    assert CUTPOINT_WARNING not in [plain(w.value) for w in at.warning]


@pytest.mark.parametrize("variable", ["cycle1_dose_mg_m2", "age_years"])
def test_the_other_variables_offer_no_blast_threshold_button(default_cohort: Path, cohort_env,
                                                           variable: str) -> None:
    at = start(default_cohort, cohort_env, page="cutpoints")
    at.radio(key="c_variable").set_value(variable).run()
    at.button(key="c_best").click().run()
    assert_healthy(at)
    assert CUTPOINT_WARNING in [plain(w.value) for w in at.warning]
    assert not [b for b in at.button if b.key == "c_use_threshold"]


# ------------------------------------------------------------------------------------------ survival and safety overlays
def km_published(at: AppTest) -> list[tuple[str, float, float]]:
    """(study, months, survival) of the published points on the Survival page's Kaplan–Meier chart."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [(t["name"], t["x"][0], t["y"][0]) for t in spec["data"] if (t.get("meta") or {}).get("role") == "published"]


def test_published_os_points_join_the_km_chart_only_for_os_and_the_first_dose(default_cohort: Path,
                                                                              cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="survival")
    assert at.radio(key="l_os_overlay").value == "off"
    assert km_published(at) == []
    at.radio(key="l_os_overlay").set_value("chosen").run()
    at.multiselect(key="l_os_studies").set_value(["inovate2016"]).run()
    assert_healthy(at)
    # INO-VATE (2016): median OS 7.7 months drawn at survival 0.5, 24-month OS 23% at 24 months
    assert sorted((x, y) for _, x, y in km_published(at)) == [(7.7, 0.5), (24.0, 0.23)]
    assert {name for name, _, _ in km_published(at)} == {"Kantarjian 2016 (published)"}
    shown = texts(at)
    assert any(t.startswith(PUBLISHED_LABEL) for t in shown)
    assert at.query_params.get("l_os_overlay") == "chosen" and at.query_params.get("l_os_studies") == "inovate2016"
    published_table = [t.value for t in at.table if "Figure" in t.value.columns and "Checked" in t.value.columns]
    assert [list(t["Figure"]) for t in published_table] == [["median OS 7.7 mo (95% CI 6.0–9.2)",
                                                             "OS at 24 months 23% (95% CI 16–30)"]]
    # a landmark chart starts its clock elsewhere: no published points on it, and the page says why
    at.selectbox(key="s_group").set_value("hsct").run()
    assert km_published(at) == []
    assert any("not on a landmark or time-dependent chart" in t for t in texts(at))
    # relapse-free survival has no published points at all, and no switch for them
    at.selectbox(key="s_group").set_value("all").run()
    at.radio(key="s_endpoint").set_value("rfs").run()
    assert not [r for r in at.radio if r.key == "l_os_overlay"]
    assert km_published(at) == []
    assert header(at) == "All patients · n = 32"                        # an overlay is not a filter


def test_published_safety_rates_follow_their_switch(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="safety")

    def studies_shown() -> set[str]:
        return {s for t in at.table if "Definition" in t.value.columns and "CI method" in t.value.columns
                for s in t.value.index.astype(str)} | {s for t in at.dataframe
                                                       if "Definition" in t.value.columns and "Study" in t.value.columns
                                                       for s in t.value["Study"]}

    assert at.radio(key="l_safety_overlay").value == "all"             # on by default, as before
    every = studies_shown()
    assert len(every) >= 2
    at.radio(key="l_safety_overlay").set_value("chosen").run()
    at.multiselect(key="l_safety_studies").set_value(["torrent2023"]).run()
    assert_healthy(at)
    assert studies_shown() == {s for s in every if s.startswith("Torrent")}
    at.radio(key="l_safety_overlay").set_value("off").run()
    assert studies_shown() == set()


def test_a_link_turns_the_published_os_points_on(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, {"l_os_overlay": "all"}, page="survival")
    assert_healthy(at)
    studies = {name for name, _, _ in km_published(at)}
    assert {"Kantarjian 2016 (published)", "DeAngelo 2017 (published)", "Torrent 2023 (published)"} <= studies
    # medians sit on the 50% line, each at its published month
    medians = {name: x for name, x, y in km_published(at) if y == 0.5}
    assert medians["Torrent 2023 (published)"] == 4.0 and medians["DeAngelo 2017 (published)"] == 7.4
