"""The endpoint registry is the one home of every definition: complete, used, and never restated."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from core.endpoints import (
    COMPETING,
    ENDPOINTS,
    EVENT,
    EndpointOptions,
    definitions_markdown,
    definitions_table,
    endpoint,
)
from core.groupings import GROUPINGS, STRATIFY_KEYS, group_label, grouping
from tests.test_app import start, texts

ROOT = Path(__file__).resolve().parent.parent
ALL_OPTIONS = [EndpointOptions(*flags) for flags in itertools.product((False, True), repeat=3)]


# ------------------------------------------------------------------------------------- the entries
def test_every_time_to_event_entry_names_its_sql_columns_and_population() -> None:
    from core.derivation import OPTION_COLUMNS, PATIENT_ENDPOINTS

    for entry in ENDPOINTS.values():
        if entry.time_to_event:
            for column in (entry.duration_column, entry.event_column):
                assert column and (column in OPTION_COLUMNS or re.search(rf"\bAS {column}\b", PATIENT_ENDPOINTS)), \
                    (entry.key, column)
        else:
            assert not entry.duration_column and not entry.event_column
        if entry.kind == "cumulative_incidence":
            assert entry.competing, entry.key
        if entry.kind == "proportion":
            assert entry.numerator and entry.denominator, entry.key


def test_definitions_follow_the_options_in_force() -> None:
    rfs = endpoint("rfs")
    assert rfs.definition() == "RFS from the first InO dose to first relapse or death; censored at last contact"
    assert rfs.definition(EndpointOptions(rfs_from_response=True, censor_at_hsct=True)) == (
        "RFS from the first dated CR/CRi to first relapse or death; censored at last contact or at HSCT")
    assert endpoint("os").definition(EndpointOptions(censor_at_hsct=True)).endswith("censored at last contact")
    relapse = endpoint("relapse_incidence")
    assert relapse.definition(EndpointOptions(relapse_from_dose=True)) == (
        "Cumulative incidence of relapse from the first InO dose to first relapse, with death without relapse "
        "competing; censored at last contact")
    assert relapse.subject() == relapse.definition().partition("; ")[0]
    assert (EVENT, COMPETING) == (1, 2)


def test_an_unknown_endpoint_or_grouping_names_the_choices() -> None:
    with pytest.raises(ValueError, match="Unknown endpoint 'pfs'; choose one of os, rfs"):
        endpoint("pfs")
    with pytest.raises(ValueError, match="Unknown grouping 'bmi'"):
        grouping("bmi")


# ------------------------------------------------------------------------------------- groupings
def test_group_labels_carry_the_threshold_and_say_what_they_are() -> None:
    assert group_label("blast_burden", "high") == "Blasts ≥ 50%"
    assert group_label("blast_burden", "low", blast_threshold=35.0) == "Blasts < 35%"
    assert group_label("blast_burden", None) == "Blasts not reported"
    assert group_label("salvage_line", 3) == "Salvage 3"
    assert group_label("hsct", True) == "HSCT" and group_label("hsct", False) == "No HSCT"
    assert group_label("all", "anything") == "All patients"
    assert all("threshold" not in group_label("blast_burden", v) for v in ("low", "high"))


def test_groupings_known_only_after_the_first_dose_carry_immortal_time_bias() -> None:
    post = {k for k, g in GROUPINGS.items() if g.immortal_time_bias}
    assert post == {"hsct", "best_response", "first_response", "responder", "n_cycles"}
    assert not grouping("salvage_line").immortal_time_bias and not grouping("blast_burden").immortal_time_bias


def test_clinical_order_puts_missing_values_last() -> None:
    g = grouping("salvage_line")
    assert sorted([None, 3, 10, 1, 2], key=g.sort_key) == [1, 2, 3, 10, None]
    assert sorted(["high", None, "low"], key=grouping("blast_burden").sort_key) == ["low", "high", None]


# ------------------------------------------------------------------------------------- one home
def _fragments() -> set[str]:
    """Text that only a definition has: sentences, rules and "origin to events" phrases."""
    found: set[str] = set()
    for entry, options in itertools.product(ENDPOINTS.values(), ALL_OPTIONS):
        found.add(entry.definition(options))
        if entry.time_to_event:
            found.add(f"{entry.origin_text(options)} to {entry.events_text(options)}")
        elif len(entry.rule_text(options)) >= 25:
            found.add(entry.rule_text(options))
    found |= {"censored at last contact", "AST, ALT or bilirubin", "thrombocytopenia, neutropenia or febrile"}
    return found


def _product_text_files() -> list[Path]:
    files = [ROOT / "app.py", *sorted(ROOT.glob("*.md"))]
    for folder in ("core", "ui", "pages", "scripts", "data"):
        files += [p for p in sorted((ROOT / folder).rglob("*")) if p.suffix in (".py", ".md", ".sql", ".toml")]
    return [p for p in files if p != ROOT / "core" / "endpoints.py" and ".venv" not in p.parts]


def test_definition_sentences_are_written_in_the_registry_only() -> None:
    fragments = {f.lower() for f in _fragments()}
    offenders: list[tuple[str, str]] = []
    for path in _product_text_files():
        text = path.read_text(errors="replace")
        if path.name == "README.md":   # the README carries the generated table (checked below)
            head, _, rest = text.partition("<!-- definitions:start -->")
            text = head + rest.partition("<!-- definitions:end -->")[2]
        lowered = re.sub(r"\s+", " ", text.lower())
        offenders += [(str(path.relative_to(ROOT)), f) for f in fragments if f in lowered]
    assert offenders == []


def test_the_check_finds_a_restated_definition(tmp_path: Path) -> None:
    restated = "label = 'Grade 3/4 liver toxicity = AST, ALT or bilirubin increased at grade ≥ 3'"
    assert any(f.lower() in restated.lower() for f in _fragments())


def test_the_readme_table_is_the_registrys() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.partition("<!-- definitions:start -->")[2].partition("<!-- definitions:end -->")[0]
    assert block.strip() == definitions_markdown().strip()
    assert len(definitions_table()) == len(ENDPOINTS) + 3   # every entry, and the three methods


# ------------------------------------------------------------------------------------- shown on the pages
def test_the_survival_page_offers_what_the_registry_holds_and_states_its_definition(default_cohort, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="survival")
    assert list(at.selectbox(key="s_group").options) == [grouping(k).title for k in STRATIFY_KEYS]
    for key in ("os", "rfs", "dor"):
        at.radio(key="s_endpoint").set_value(key).run()
        assert any(f"Definition in force: {endpoint(key).definition()}." in t for t in texts(at)), key


def test_the_response_and_safety_pages_state_the_registrys_definitions(default_cohort, cohort_env) -> None:
    shown = texts(start(default_cohort, cohort_env, page="response"))
    assert any(endpoint("cr_cri").definition() in t for t in shown)
    assert any(endpoint("deep_response").definition() in t for t in shown)
    shown = texts(start(default_cohort, cohort_env, page="safety"))
    for key in ("vod", "liver_toxicity_g34", "haematologic_toxicity"):
        assert any(endpoint(key).definition() in t for t in shown), key


def test_the_data_dictionary_shows_every_entry(default_cohort, cohort_env) -> None:
    at = start(default_cohort, cohort_env, page="data_dictionary")
    shown = "\n".join(str(v) for df in at.dataframe for v in df.value.to_numpy().ravel())
    for entry in ENDPOINTS.values():
        assert entry.definition() in shown, entry.key


def test_cumulative_incidence_entries_name_both_event_kinds() -> None:
    for entry in ENDPOINTS.values():
        if entry.kind == "cumulative_incidence":
            assert len(entry.legend) == 2 and len(entry.competing) == 1, entry.key
