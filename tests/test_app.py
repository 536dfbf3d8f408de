"""The dashboard through streamlit's AppTest (from app.py) and the URL parser as pure functions.

Golden values on the default cohort are the paper's (Table 3, Table 4, §4.2.1): the reconstructed
cohort reproduces them, so the pages must show them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from core import export
from core.contract import DISEASE_STATUSES, DOSE_GROUPS, PH_STATUSES, SEXES
from core.filters import FilterSpec
from tests.cohort_factory import TinyPatient
from ui.url_state import (
    MAX_VALUE_CHARS,
    CohortVocabulary,
    parse_query_params,
    spec_to_query_params,
)

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("overview", "response", "survival", "safety", "patients", "paper_check")
TIMEOUT = 60


# ------------------------------------------------------------------------------------- helpers
def start(cohort: Path, use: Callable[[Path], None], query: dict[str, object] | None = None,
          page: str | None = None) -> AppTest:
    use(cohort)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.run()
    if page and page != "overview":
        at.switch_page(f"pages/{page}.py").run()
    return at


def plain(text: str) -> str:
    """Markdown as a reader sees it (escapes and bold markers removed)."""
    return re.sub(r"\\(.)", r"\1", text).replace("**", "")


def texts(at: AppTest) -> list[str]:
    """Every text a user reads on the page: markdown, captions, alerts, metrics."""
    out = [plain(m.value) for m in at.markdown] + [plain(c.value) for c in at.caption]
    out += [plain(e.value) for kind in (at.info, at.warning, at.error, at.success) for e in kind]
    out += [f"{m.label}: {m.value}" for m in at.metric]
    return out


def header(at: AppTest) -> str:
    """The slice line under the title."""
    return next(plain(m.value) for m in at.markdown if re.search(r"· n = \d+", m.value))


def assert_healthy(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    shown = texts(at)
    assert not [t for t in shown if "Something went wrong" in t], shown
    assert not [t for t in shown if "could not be drawn" in t or "Chart unavailable" in t], shown
    assert not [e.value for e in at.error], [e.value for e in at.error]


def response_line(at: AppTest) -> str:
    return next(t for t in texts(at) if t.startswith("Overall CR/CRi"))


# ------------------------------------------------------------------------------------- the default cohort
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_full_cohort(default_cohort: Path, cohort_env, page: str) -> None:
    at = start(default_cohort, cohort_env, page=page)
    assert_healthy(at)
    assert header(at) == "All patients · n = 32"
    banner = " ".join(plain(i.value) for i in at.info)
    assert "Reconstructed" in banner or "reconstructed" in banner


def test_full_cohort_cr_cri_is_the_papers(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="response")
    assert response_line(at).startswith("Overall CR/CRi: 19/32 · 59.4%")


def test_salvage_filter_by_key_changes_the_numbers(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="response")
    at.multiselect(key="f_salvage").set_value([1]).run()
    assert_healthy(at)
    assert header(at) == "Salvage 1 · n = 10 of 32"
    assert response_line(at).startswith("Overall CR/CRi: 6/10 · 60.0%")   # Table 3
    assert at.query_params.get("salvage") == "1"


def test_blast_filter_by_key_changes_the_numbers(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="response")
    at.radio(key="f_blast").set_value("high").run()
    assert_healthy(at)
    assert header(at) == "blasts ≥ 50% · n = 16 of 32"
    assert response_line(at).startswith("Overall CR/CRi: 9/16 · 56.3%")   # Table 4 (56.25 half-up)
    assert at.query_params.get("blast") == "high"


def test_overview_key_figures(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Patients"] == "32"
    assert metrics["CR/CRi"] == "59.4%"
    assert metrics["MRD negative"] == "94.7%"
    assert metrics["HSCT"] == "34.4%"
    assert metrics["Median OS"] == "6.0 mo"
    assert any("19/32 patients" in t for t in texts(at))


def test_url_restores_the_view(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, {"salvage": "2,3", "blast": "high", "presenter": "1"}, page="response")
    assert_healthy(at)
    assert at.multiselect(key="f_salvage").value == [2, 3]
    assert at.radio(key="f_blast").value == "high"
    assert at.toggle(key="presenter").value is True
    assert header(at).startswith("Salvage 2–3 · blasts ≥ 50% · n = ")
    assert at.query_params.get("salvage") == "2,3" and at.query_params.get("presenter") == "1"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_in_presenter_mode(default_cohort: Path, cohort_env, page: str) -> None:
    at = start(default_cohort, cohort_env, {"presenter": "1"}, page=page)
    assert_healthy(at)


# ------------------------------------------------------------------------------------- small cohorts
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_a_tiny_cohort(tiny_cohort: Path, cohort_env, page: str) -> None:
    at = start(tiny_cohort, cohort_env, page=page)
    assert_healthy(at)
    assert header(at) == "All patients · n = 10"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_a_one_patient_slice(tiny_cohort: Path, cohort_env, page: str) -> None:
    at = start(tiny_cohort, cohort_env, {"centre": "Centre B", "sex": "F"}, page=page)
    assert_healthy(at)
    assert header(at) == "female · Centre B · n = 1 of 10"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_a_one_patient_cohort(make_tiny_cohort, cohort_env, page: str) -> None:
    at = start(make_tiny_cohort([TinyPatient("P01")], name="one.duckdb"), cohort_env, page=page)
    assert_healthy(at)
    assert header(at) == "All patients · n = 1"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_slice(tiny_cohort: Path, cohort_env, page: str) -> None:
    at = start(tiny_cohort, cohort_env, {"centre": "Centre B", "sex": "M", "salvage": "1"}, page=page)
    assert_healthy(at)
    assert header(at).endswith("n = 0 of 10")
    if page != "paper_check":   # the paper check is always of the whole cohort
        assert any("No patients match these filters" in t for t in texts(at))


def test_survival_options_on_a_tiny_cohort(tiny_cohort: Path, cohort_env) -> None:
    at = start(tiny_cohort, cohort_env, page="survival")
    at.radio(key="s_endpoint").set_value("rfs").run()
    at.checkbox(key="s_censor_hsct").check().run()
    assert_healthy(at)
    assert any("Definition in force: RFS from the first InO dose to first relapse or death; censored at last "
               "contact or at HSCT." in t for t in texts(at))
    at.radio(key="s_endpoint").set_value("os").run()
    at.selectbox(key="s_group").set_value("hsct").run()
    # HSCT happens after the first dose: the valid comparisons are offered, the landmark first
    assert at.radio(key="s_comparison").options == ["Landmark analysis", "Time-dependent (Simon–Makuch)",
                                                    "Naive split (biased)"]
    at.checkbox(key="s_logrank").check().run()
    assert_healthy(at)
    shown = texts(at)
    assert any(t.startswith("Default landmark: ") for t in shown)
    assert any(t.startswith("Log-rank not shown: group") for t in shown)   # 3 with HSCT < 5 per group
    assert not any("Immortal-time bias" in t for t in shown)
    at.radio(key="s_comparison").set_value("naive").run()
    assert_healthy(at)
    assert any(t.startswith("Immortal-time bias: HSCT happens after the first InO dose") for t in texts(at))
    assert at.checkbox(key="s_logrank").disabled           # no log-rank on the biased split
    at.radio(key="s_comparison").set_value("time_dependent").run()
    assert_healthy(at)
    assert any(t.startswith("Mantel–Byar test") for t in texts(at))


def test_filter_widget_changes_numbers_on_a_tiny_cohort(tiny_cohort: Path, cohort_env) -> None:
    at = start(tiny_cohort, cohort_env, page="response")
    assert response_line(at).startswith("Overall CR/CRi: 7/10 · 70.0%")
    at.multiselect(key="f_salvage").set_value([1]).run()
    assert response_line(at).startswith("Overall CR/CRi: 4/4 · 100.0%")
    assert header(at) == "Salvage 1 · n = 4 of 10"
    at.checkbox(key="f_missing").uncheck().run()
    at.radio(key="f_blast").set_value("high").run()
    assert header(at) == "Salvage 1 · blasts ≥ 50% (missing values excluded) · n = 2 of 10"
    at.button(key="f_reset").click().run()
    assert header(at) == "All patients · n = 10"
    assert at.query_params == {}


def test_options_show_counts_in_the_slice(tiny_cohort: Path, cohort_env) -> None:
    at = start(tiny_cohort, cohort_env, {"centre": "Centre B"})
    captions = [plain(c.value) for c in at.sidebar.caption]
    assert "Salvage 1 (1) · Salvage 2 (1) · Salvage 3 (0)" in captions
    assert "low < 50% (1) · high ≥ 50% (1)" in captions
    assert "Centre A (8) · Centre B (2)" in captions          # centre's own filter is left out
    at.multiselect(key="f_salvage").set_value([1]).run()
    captions = [plain(c.value) for c in at.sidebar.caption]
    assert "Centre A (3) · Centre B (1)" in captions
    assert at.multiselect(key="f_centre").value == ["Centre B"]


HOSTILE = {
    "centre": "'; DROP TABLE patients; --",
    "salvage": "1 OR 1=1",
    "blast": "x" * 10_000,
    "age_min": "nan",
    "ph": "<script>alert(1)</script>",
    "hsct": "maybe",
    "dose_min": "1e400",
    "unknown_param": "whatever",
}


def test_hostile_url_gives_notices_and_defaults(tiny_cohort: Path, cohort_env) -> None:
    at = start(tiny_cohort, cohort_env, HOSTILE, page="response")
    assert_healthy(at)
    assert header(at) == "All patients · n = 10"
    notices = [plain(w.value) for w in at.warning]
    for name in ("centre", "salvage line", "blast burden", "minimum age", "Ph status", "HSCT",
                 "minimum cycle-1 dose"):
        assert any(f"The link's {name} " in n and "Showing the default instead" in n for n in notices), name
    assert all(len(n) < 400 for n in notices)                  # the 10 kB value is not echoed
    assert at.multiselect(key="f_centre").value == []
    assert at.radio(key="f_blast").value == "all"
    assert at.query_params == {}                               # the URL is rewritten to the valid view
    at.switch_page("pages/survival.py").run()                  # other pages keep working
    assert_healthy(at)


def test_missing_cohort_file_is_a_user_facing_error(tmp_path: Path, cohort_env) -> None:
    at = start(tmp_path / "nowhere.duckdb", cohort_env)
    assert not at.exception
    errors = [plain(e.value) for e in at.error]
    assert errors and "does not exist" in errors[0] and "INO_COHORT_PATH" in errors[0]


def test_a_file_that_is_not_a_cohort_is_a_user_facing_error(tmp_path: Path, cohort_env) -> None:
    bad = tmp_path / "bad.duckdb"
    bad.write_text("not a database")
    at = start(bad, cohort_env)
    assert not at.exception
    assert at.error and "could not be opened" in plain(at.error[0].value)


# ------------------------------------------------------------------------------------- the URL parser
VOCAB = CohortVocabulary(centres=("Centre A", "Centre B", "AIIMS, Delhi"), salvage_lines=(1, 2, 3))


def test_empty_url_is_the_default_view() -> None:
    state = parse_query_params({}, VOCAB)
    assert state.spec == FilterSpec() and state.presenter is False and state.notices == ()


@pytest.mark.parametrize(("params", "expected"), [
    ({"salvage": "2,3"}, FilterSpec(salvage_lines=(2, 3))),
    ({"salvage": ["3", "1"]}, FilterSpec(salvage_lines=(1, 3))),
    ({"blast": "high", "blast_threshold": "40"}, FilterSpec(blast_burden="high", blast_threshold=40.0)),
    ({"dose": "lt1.8,gt1.8"}, FilterSpec(dose_groups=("<1.8", ">1.8"))),
    ({"dose": "<1.8"}, FilterSpec(dose_groups=("<1.8",))),
    ({"dose_min": "1.2", "dose_max": "1.8"}, FilterSpec(dose_min_mg_m2=1.2, dose_max_mg_m2=1.8)),
    ({"hsct": "no"}, FilterSpec(hsct=False)),
    ({"age_min": "18", "age_max": "65"}, FilterSpec(age_min=18.0, age_max=65.0)),
    ({"sex": "F"}, FilterSpec(sexes=("F",))),
    ({"centre": ["Centre B", "AIIMS, Delhi"]}, FilterSpec(centres=("Centre B", "AIIMS, Delhi"))),
    ({"centre": "Centre A,Centre B"}, FilterSpec(centres=("Centre A", "Centre B"))),
    ({"ph": "pos"}, FilterSpec(ph_statuses=("Ph+",))),
    ({"ph": "Ph-"}, FilterSpec(ph_statuses=("Ph-",))),
    ({"status": "refractory"}, FilterSpec(disease_statuses=("refractory",))),
    ({"emd": "yes"}, FilterSpec(emd_baseline=True)),
    ({"missing": "exclude"}, FilterSpec(include_missing=False)),
])
def test_url_values_become_filter_fields(params: dict[str, object], expected: FilterSpec) -> None:
    state = parse_query_params(params, VOCAB)
    assert state.notices == ()
    assert state.spec == expected


@pytest.mark.parametrize(("params", "param"), [
    ({"centre": "'; DROP TABLE patients; --"}, "centre"),
    ({"centre": "Centre Z"}, "centre"),
    ({"salvage": "9"}, "salvage"),
    ({"salvage": "1;DELETE"}, "salvage"),
    ({"blast": "medium"}, "blast"),
    ({"blast_threshold": "100"}, "blast_threshold"),
    ({"blast_threshold": "inf"}, "blast_threshold"),
    ({"dose": "2.0"}, "dose"),
    ({"age_min": "-5"}, "age_min"),
    ({"age_min": "70", "age_max": "20"}, "age_max"),          # crosses: the second is dropped
    ({"sex": "X"}, "sex"),
    ({"hsct": ""}, "hsct"),
    ({"missing": "perhaps"}, "missing"),
    ({"presenter": "loud"}, "presenter"),
    ({"centre": "A" * 10_000}, "centre"),
    ({"salvage": ",".join(["1"] * 500)}, "salvage"),
])
def test_bad_url_values_fall_back_with_a_notice(params: dict[str, object], param: str) -> None:
    state = parse_query_params(params, VOCAB)
    assert [n.param for n in state.notices] == [param]
    notice = state.notices[0]
    assert "Showing the default instead" in notice.message and len(notice.message) < 300
    default = FilterSpec()
    kept = {k: v for k, v in params.items() if k != param}
    assert state.spec == parse_query_params(kept, VOCAB).spec if kept else state.spec == default


def test_bad_values_do_not_spoil_good_ones() -> None:
    state = parse_query_params({"salvage": "2", "centre": "nope", "blast": "high"}, VOCAB)
    assert state.spec == FilterSpec(salvage_lines=(2,), blast_burden="high")
    assert [n.param for n in state.notices] == ["centre"]


def test_unknown_parameters_are_ignored() -> None:
    assert parse_query_params({"utm_source": "mail", "embed": "true"}, VOCAB) == parse_query_params({}, VOCAB)


def test_no_vocabulary_means_no_centre_is_known() -> None:
    state = parse_query_params({"centre": "Centre A"})
    assert state.spec.centres == () and state.notices[0].param == "centre"


def test_long_values_are_rejected_before_parsing() -> None:
    state = parse_query_params({"age_min": "1" * (MAX_VALUE_CHARS + 1)}, VOCAB)
    assert state.notices[0].reason.startswith("longer than")


specs = st.builds(
    FilterSpec,
    blast_burden=st.sampled_from(["all", "low", "high"]),
    blast_threshold=st.sampled_from([50.0, 20.0, 33.5, 75.0]),
    dose_groups=st.lists(st.sampled_from(DOSE_GROUPS), unique=True).map(lambda v: tuple(g for g in DOSE_GROUPS if g in v)),
    salvage_lines=st.lists(st.sampled_from([1, 2, 3]), unique=True).map(lambda v: tuple(sorted(v))),
    hsct=st.sampled_from([None, True, False]),
    age_min=st.sampled_from([None, 18.0, 30.5]),
    age_max=st.sampled_from([None, 65.0, 80.0]),
    sexes=st.lists(st.sampled_from(SEXES), unique=True).map(lambda v: tuple(s for s in SEXES if s in v)),
    centres=st.lists(st.sampled_from(VOCAB.centres), unique=True).map(
        lambda v: tuple(c for c in VOCAB.centres if c in v)),
    ph_statuses=st.lists(st.sampled_from(PH_STATUSES), unique=True).map(
        lambda v: tuple(p for p in PH_STATUSES if p in v)),
    disease_statuses=st.lists(st.sampled_from(DISEASE_STATUSES), unique=True).map(
        lambda v: tuple(s for s in DISEASE_STATUSES if s in v)),
    emd_baseline=st.sampled_from([None, True, False]),
    include_missing=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(spec=specs, presenter=st.booleans())
def test_url_round_trip(spec: FilterSpec, presenter: bool) -> None:
    params = spec_to_query_params(spec, presenter=presenter)
    state = parse_query_params(params, VOCAB)
    assert state.notices == ()
    assert state.spec == spec and state.presenter == presenter


@settings(max_examples=300, deadline=None)
@given(params=st.dictionaries(st.sampled_from(["salvage", "blast", "blast_threshold", "dose", "dose_min", "dose_max",
                                               "hsct", "age_min", "age_max", "sex", "centre", "ph", "status",
                                               "emd", "missing", "presenter", "other"]),
                              st.one_of(st.text(max_size=300), st.lists(st.text(max_size=50), max_size=5))))
def test_parser_never_raises(params: dict[str, object]) -> None:
    state = parse_query_params(params, VOCAB)
    assert isinstance(state.spec, FilterSpec)
    state.spec.validate()


def test_filters_persist_across_pages(tiny_cohort: Path, cohort_env) -> None:
    at = start(tiny_cohort, cohort_env)
    at.multiselect(key="f_salvage").set_value([2]).run()
    at.switch_page("pages/safety.py").run()
    assert_healthy(at)
    assert at.multiselect(key="f_salvage").value == [2]
    assert header(at) == "Salvage 2 · n = 4 of 10"
    assert at.query_params.get("salvage") == "2"


# ------------------------------------------------------------------------------------- downloads
IMAGE_LABELS = ["PNG · slide", "PNG · 1 column", "PNG · 2 columns", "SVG", "PDF"]
CHARTS = {   # page -> the charts (download key stems) it offers as images
    "overview": ["overall_survival_24_months"],
    "response": ["cr_cri_by_subgroup", "best_response", "cycles_to_response", "cumulative_incidence_of_hsct"],
    "survival": ["overall_survival", "relapse_and_non_relapse_mortality"],
    "safety": ["toxicity_by_hsct_status", "vod_by_salvage_line", "vod_relative_to_hsct", "causes_of_death",
               "cumulative_incidence_of_vod"],
    "patients": ["swimmer_plot"],
}
TABLES = {   # page -> the tables it offers as CSV and XLSX
    "overview": ["patient_characteristics"],
    "response": ["cr_cri_by_subgroup", "best_response", "mrd_negativity", "hsct",
                 "cumulative_incidence_of_hsct_summary"],
    "survival": ["overall_survival_summary", "relapse_and_non_relapse_mortality_summary"],
    "safety": ["toxicity_by_hsct_status", "vod_by_salvage_line", "vod_relative_to_hsct", "toxicity_components",
               "causes_of_death", "cumulative_incidence_of_vod_summary"],
    "patients": ["patient_listing"],
    "paper_check": ["paper_check"],
}
needs_browser = pytest.mark.skipif(not export.export_available(), reason="no Chrome/Chromium for static export")


def download_keys(at: AppTest) -> set[str]:
    return {b.key for b in at.download_button}


def tucked_keys(at: AppTest) -> set[str]:
    """Download buttons inside a popover or an expander (not on the page's surface)."""
    return {b.key for kind in ("popover", "expander") for block in at.get(kind) for b in block.download_button}


def popover_labels(at: AppTest) -> list[str]:
    return [block.proto.popover.label for block in at.get("popover")]


@needs_browser
@pytest.mark.parametrize("page", ["overview", "response", "survival", "safety", "patients"])
def test_every_chart_offers_png_svg_pdf_and_every_table_csv_xlsx(default_cohort: Path, cohort_env,
                                                                  page: str) -> None:
    at = start(default_cohort, cohort_env, page=page)
    assert_healthy(at)
    keys = download_keys(at)
    for chart in CHARTS[page]:
        assert {f"dl_chart_{chart}_{fmt}_{preset}" for fmt, preset in
                (("png", "slide"), ("png", "journal_single"), ("png", "journal_double"),
                 ("svg", "journal_double"), ("pdf", "journal_double"))} <= keys, chart
    for table in TABLES[page]:
        assert {f"dl_table_{table}_csv", f"dl_table_{table}_xlsx"} <= keys, table
    assert popover_labels(at).count("Download chart") == len(CHARTS[page])
    chart_buttons = [b for block in at.get("popover") for b in block.download_button]
    assert [b.label for b in chart_buttons] == IMAGE_LABELS * len(CHARTS[page])


def test_paper_check_table_downloads(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env, {"salvage": "1"}, page="paper_check")
    assert_healthy(at)
    assert {"dl_table_paper_check_csv", "dl_table_paper_check_xlsx"} <= download_keys(at)


@pytest.mark.parametrize("page", ["overview", "response", "survival", "safety", "patients", "paper_check"])
def test_presenter_mode_tucks_every_download_away(default_cohort: Path, cohort_env, page: str) -> None:
    at = start(default_cohort, cohort_env, {"presenter": "1"}, page=page)
    assert_healthy(at)
    keys = download_keys(at)
    assert {f"dl_table_{t}_csv" for t in TABLES[page]} <= keys
    assert keys and keys == tucked_keys(at)       # no download button on the slide's surface
    assert "Download table" in popover_labels(at)


def test_overview_offers_slice_data_and_the_deck(default_cohort: Path, cohort_env) -> None:
    at = start(default_cohort, cohort_env)
    assert_healthy(at)
    assert {"dl_slice_zip", "dl_slice_xlsx"} <= download_keys(at)
    assert at.button(key="dl_deck_prepare").label == "Prepare tumour-board deck"
    assert [e.label for e in at.sidebar.expander] == ["Export options"]
    assert at.toggle(key="export_suppress_small_counts").value is False


def test_deck_is_prepared_with_its_files(tiny_cohort: Path, cohort_env) -> None:
    at = start(tiny_cohort, cohort_env)
    at.button(key="dl_deck_prepare").click().run()
    assert_healthy(at)
    keys = download_keys(at)
    assert "dl_deck_pptx" in keys
    if export.export_available():
        assert "dl_deck_pdf" in keys
    at.multiselect(key="f_salvage").set_value([1]).run()   # another slice: the old deck is not offered
    assert "dl_deck_pptx" not in download_keys(at)


@pytest.mark.parametrize("page", ["response", "survival", "safety"])
def test_one_patient_slice_still_offers_downloads(tiny_cohort: Path, cohort_env, page: str) -> None:
    at = start(tiny_cohort, cohort_env, {"centre": "Centre B", "sex": "F"}, page=page)
    assert_healthy(at)
    keys = download_keys(at)
    assert any(k.endswith("_csv") for k in keys) and any(k.endswith("_xlsx") for k in keys), keys


@pytest.mark.parametrize("page", ["overview", "response", "survival", "safety", "patients"])
def test_empty_slice_offers_nothing_to_download(tiny_cohort: Path, cohort_env, page: str) -> None:
    at = start(tiny_cohort, cohort_env, {"centre": "Centre B", "sex": "M", "salvage": "1"}, page=page)
    assert_healthy(at)
    assert download_keys(at) == set()


def test_suppression_blocks_patient_level_exports(tiny_cohort: Path, cohort_env) -> None:
    at = start(tiny_cohort, cohort_env, page="patients")
    assert {"dl_table_patient_listing_csv"} <= download_keys(at)
    at.toggle(key="export_suppress_small_counts").set_value(True).run()
    assert_healthy(at)
    assert at.number_input(key="export_suppression_threshold").value == 5
    keys = download_keys(at)
    assert not [k for k in keys if k.startswith(("dl_table_patient_listing", "dl_chart_swimmer_plot"))], keys
    shown = texts(at)
    assert any(t.startswith("Patient-level rows are not exported while small counts are suppressed") for t in shown)
    assert any(t.startswith("Charts of individual patients are not exported") for t in shown)
    at.switch_page("pages/overview.py").run()
    assert_healthy(at)
    assert not {"dl_slice_zip", "dl_slice_xlsx"} & download_keys(at)
    assert "dl_table_patient_characteristics_csv" in download_keys(at)    # aggregate tables still export


def test_without_a_browser_tables_still_download(tiny_cohort: Path, cohort_env, monkeypatch) -> None:
    monkeypatch.setenv(export.BROWSER_ENV, "/nonexistent/chromium")
    at = start(tiny_cohort, cohort_env, page="survival")
    assert_healthy(at)
    keys = download_keys(at)
    assert {"dl_table_overall_survival_summary_csv", "dl_table_overall_survival_summary_xlsx"} <= keys
    assert not [k for k in keys if k.startswith("dl_chart_")], keys
    assert any(t.startswith(":material/image_not_supported: Chart images (PNG, SVG, PDF) cannot be made")
               for t in texts(at))


def test_unicode_digits_in_the_url_give_a_notice() -> None:
    # "²" and "٣" are digits to str.isdigit() but not to int(): a notice, never an exception
    for value in ("²", "٣", "1²"):
        state = parse_query_params({"salvage": value}, VOCAB)
        assert state.spec.salvage_lines == () and state.notices


def test_an_exported_chart_is_laid_out_again_for_the_export_width() -> None:
    import plotly.graph_objects as go

    from core.charts import km_figure
    from core.survival import SurvivalAnalysis, fit_kaplan_meier
    from ui import figures

    curve = fit_kaplan_meier([1, 2, 4, 5, 7, 12, 30, 72], [True] * 5 + [False] * 3)
    analysis = SurvivalAnalysis(endpoint="os", title="Overall survival", definition="test", grouping="all",
                                curves=(curve,), comparison=None, conf_level=0.95)
    recipe = ("km_figure", km_figure, (analysis,), (("show_ci", True),), "All patients · n = 8", False)
    shown = figures._build(*recipe)
    figures._remember(shown, recipe)
    column = figures.at_width(shown, export.PRESETS["journal_single"].css_width)
    names = lambda fig: {a.name for a in fig.layout.annotations}  # noqa: E731
    assert "km-medians" in names(shown) and "km-medians" not in names(column)
    assert len(column.layout.xaxis.tickvals) < len(shown.layout.xaxis.tickvals)
    assert figures.at_width(shown, 1280) is not shown          # every preset gets its own layout
    stranger = go.Figure()
    assert figures.at_width(stranger, 336) is stranger          # not drawn by the dashboard: unchanged
